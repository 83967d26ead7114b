# Starting and stopping a real `tapir core serve` from a script (sourced by tests/demo.sh and
# bench/*.sh). The core runs as under systemd: its own session, stdin on /dev/null. It is stopped
# the way operators stop it, with SIGTERM; a core still alive 10 s later, or one that exits with
# a status other than 0, fails the script loudly. When TAPIR_PIDS_FILE is set, every PID started
# is appended to it, so a test can check afterwards that none is left running.
# Needs: $tapir (the binary) and TAPIR_CORE__STATE_DIR exported (the state `core init` made).

core_pid=""

# core_free_port: prints a port below the ephemeral range (32768+, so no outgoing connection can
# hold it) that nothing listens on now.
core_free_port() {
  local port
  for _ in $(seq 100); do
    port=$(( 20000 + RANDOM % 12000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break
  done
  echo "$port"
}

# core_start LOGFILE: picks free ports, exports TAPIR_CORE__LISTEN, __PUBLIC_URL, __MQTT_LISTEN,
# __MQTT_URL and __METRICS_LISTEN (core_port, core_mqtt_port, core_metrics_port), starts the core,
# waits until its API listens. __MQTT_URL is $core_mqtt_url when that is set (an external broker).
core_start() {
  local log=$1 port
  port=$(core_free_port)
  core_port=$port
  core_mqtt_port=$(core_free_port)
  while [ "$core_mqtt_port" = "$port" ]; do core_mqtt_port=$(core_free_port); done
  core_metrics_port=$(core_free_port)
  while [ "$core_metrics_port" = "$port" ] || [ "$core_metrics_port" = "$core_mqtt_port" ]; do core_metrics_port=$(core_free_port); done
  export TAPIR_CORE__LISTEN=127.0.0.1:$port TAPIR_CORE__PUBLIC_URL=https://127.0.0.1:$port/
  export TAPIR_CORE__MQTT_LISTEN=127.0.0.1:$core_mqtt_port TAPIR_CORE__MQTT_URL=${core_mqtt_url:-mqtts://127.0.0.1:$core_mqtt_port}
  export TAPIR_CORE__METRICS_LISTEN=127.0.0.1:$core_metrics_port
  setsid "$tapir" core serve </dev/null 2>"$log" &
  core_pid=$!
  if [ -n "${TAPIR_PIDS_FILE:-}" ]; then echo "$core_pid" >>"$TAPIR_PIDS_FILE"; fi
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    kill -0 "$core_pid" 2>/dev/null || { echo "core serve exited at start:" >&2; cat "$log" >&2; return 1; }
    sleep 0.1
  done
  echo "core serve did not listen on 127.0.0.1:$port within 10 s" >&2
  return 1
}

# core_stop: SIGTERM, then at most 10 s for exit status 0.
core_stop() {
  [ -n "$core_pid" ] || return 0
  local pid=$core_pid status=0
  core_pid=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: tapir core serve (pid $pid) still running 10 s after SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
  fi
  wait "$pid" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "FAIL: tapir core serve (pid $pid) exited with status $status after SIGTERM" >&2
    return 1
  fi
}
