#!/usr/bin/env bash
# The embedded MQTT broker under load (issue 11), side by side with Debian's mosquitto on the same
# machine, same certificates, same load client (tests/interop/mqtt-load.mjs, MQTT.js). For each
# edge count in MQTT_EDGES (default "1000 5000 10000"): N mTLS connections that all subscribe to
# config/down/#, the time to connect them all, the time for one retained configuration to reach
# every edge (published by a core role over MQTT, retained; with the broker's CPU for it, the core
# role's one handshake included), then MQTT_PUBLISHERS (200) of them
# publishing a signed QoS 1 message in a loop for MQTT_SECONDS (20) with one in flight each,
# counting successful PUBACKs. tapir verifies every message (Ed25519 JWS), commits it to its
# durable event log and republishes it on verified/ before the PUBACK; mosquitto (no ACL, no
# verification, no persistence) only routes, so its figure is the reference ceiling, not a peer.
# Broker CPU (utime+stime from /proc) per handshake and per message, the load client's own CPU
# per message (it shares the machine's cores with the broker), RSS per connected edge, and
# RSS at the start and end of the publish phase (set MQTT_SECONDS=600 for the issue's soak).
# Every edge connection uses one enrolled node's certificate with client id <node>-<i>.
# MQTT_MODES (default "embedded mosquitto external") picks the columns: embedded = tapir's own
# broker, mosquitto = mosquitto alone, external = tapir core in core.mqtt_mode = "external" behind
# the same mosquitto: the edges connect to mosquitto (their PUBACKs come from mosquitto), and the
# core, subscribed to events/up/# over its own connection, verifies each message, commits it to the
# event log, republishes it on verified/ and only then acknowledges it. For that column the line
# after the mosquitto figures gives the core's side: messages verified by the core (its
# tapir_mqtt_messages_total{outcome="verified"}, counted once stored) from the start of the publish
# phase until it has verified every acked one (or made no progress for 10 s), per second; then the
# time until it has also republished every one on verified/ and acknowledged it to mosquitto
# (tapir_mqtt_unacknowledged back to 0, at most 60 s more), and core CPU per message over both.
# When MQTT_SNAPSHOT names a file, once all edges are connected the broker's RSS, anonymous memory
# and thread count are appended to it and its /proc/PID/smaps is copied to
# MQTT_SNAPSHOT.<mode>.<edges>.smaps.
set -euo pipefail
cd "$(dirname "$0")/.."
tapir=$PWD/bin/tapir
work=$(mktemp -d)
# shellcheck source=tests/lib/core.sh
. tests/lib/core.sh
mosq_pid=""
trap 'status=$?; core_stop || status=1; [ -z "$mosq_pid" ] || { kill -TERM "$mosq_pid"; wait "$mosq_pid" || true; }; rm -rf "$work"; exit $status' EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
edges_list=${MQTT_EDGES:-1000 5000 10000}
modes=${MQTT_MODES:-embedded mosquitto external}
publishers=${MQTT_PUBLISHERS:-200}
seconds=${MQTT_SECONDS:-20}
snapshot=${MQTT_SNAPSHOT:-}
node_name=bench.example.net
admin=admin.example.net
export TAPIR_CORE__STATE_DIR=$work/core TAPIR_CORE__CORE_ROLES=$admin TAPIR_MQTT__CORE_ROLE_PUBLISH='config/down/#'
"$tapir" core init >/dev/null
umask 077
core_start "$work/serve.log"
for n in "$node_name" "$admin"; do
  "$tapir" core node add "$n" --out "$work/$n.json" >/dev/null
  "$tapir" edge enroll --credentials "$work/$n.json" --state "$work/$n" >/dev/null
done
core_stop
echo '{"type":"new_qname","qname":"bench.example."}' >"$work/event.json"
message=$("$tapir" jws sign --flattened --key "$work/$node_name/datakey.jwk" "$work/event.json")
echo "{\"config\":\"bench $$\"}" >"$work/config.json"
config=$("$tapir" jws sign --flattened --key "$work/$admin/datakey.jwk" "$work/config.json")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

# run_load BROKER PID PORT EDGES: prints one result line.
run_load() {
  local broker=$1 pid=$2 port=$3 edges=$4
  local pause=$work/pause.$broker.$edges out=$work/load.$broker.$edges
  local rss0 cpu0 rss1 cpu1 cpu2 rss2 rss3 cpu3
  rss0=$(rss_kib "$pid"); cpu0=$(cpu_ticks "$pid")
  jq -n --arg url "mqtts://127.0.0.1:$port" --arg ca "$work/core/ca.crt" --arg cert "$work/$node_name/tls.crt" --arg key "$work/$node_name/tls.key" \
    --arg prefix "$node_name" --argjson edges "$edges" --argjson publishers "$publishers" --argjson seconds "$seconds" \
    --arg adminCert "$work/$admin/tls.crt" --arg adminKey "$work/$admin/tls.key" --arg adminId "$admin" --arg config "$config" \
    --arg topic "events/up/$node_name/new_qname" --arg message "$message" --arg pauseFile "$pause" \
    '{url:$url,ca:$ca,cert:$cert,key:$key,prefix:$prefix,edges:$edges,concurrency:100,publishers:$publishers,seconds:$seconds,
      adminCert:$adminCert,adminKey:$adminKey,adminId:$adminId,config:$config,topic:$topic,message:$message,pauseFile:$pauseFile}' \
    | node --max-old-space-size=4096 tests/interop/mqtt-load.mjs >"$out" &
  local load=$!
  while [ ! -f "$pause" ]; do kill -0 "$load" 2>/dev/null || { cat "$out"; return 1; }; sleep 0.2; done
  sleep 2 # let the broker settle after the last handshake
  rss1=$(rss_kib "$pid"); cpu1=$(cpu_ticks "$pid")
  if [ -n "$snapshot" ]; then
    { echo "== $broker $edges edges"; grep -E '^(Rss|Anonymous|Threads):' "/proc/$pid/smaps_rollup" "/proc/$pid/status"; } >>"$snapshot"
    cp "/proc/$pid/smaps" "$snapshot.$broker.$edges.smaps"
  fi
  # The core's counts before the fan-out (which it takes no part in) and the publish phase.
  if [ "$broker" = external ]; then core_cpu2=$(cpu_ticks "$core_pid"); core_v2=$(core_verified); fi
  rm -f "$pause"
  # The load client pauses again after the fan-out, so its CPU is the fan-out's alone.
  while [ ! -f "$pause" ]; do kill -0 "$load" 2>/dev/null || { cat "$out"; return 1; }; sleep 0.1; done
  cpu2=$(cpu_ticks "$pid"); rss2=$(rss_kib "$pid")
  if [ "$broker" = external ]; then core_t2=$(date +%s.%N); fi
  rm -f "$pause"
  wait "$load"
  rss3=$(rss_kib "$pid"); cpu3=$(cpu_ticks "$pid")
  local connect_ms fanout_ms missing acked rate
  connect_ms=$(jq -r 'select(.phase=="connect").ms' "$out")
  fanout_ms=$(jq -r 'select(.phase=="fanout").ms' "$out"); missing=$(jq -r 'select(.phase=="fanout").missing' "$out")
  acked=$(jq -r 'select(.phase=="publish").acked' "$out"); rate=$(jq -r 'select(.phase=="publish").per_second' "$out")
  client_us=$(jq -r 'select(.phase=="publish").client_cpu_us' "$out")
  awk -v b="$broker" -v e="$edges" -v c="$connect_ms" -v f="$fanout_ms" -v m="$missing" -v r="$rate" -v a="$acked" \
      -v hs="$(( cpu1 - cpu0 ))" -v fc="$(( cpu2 - cpu1 ))" -v pc="$(( cpu3 - cpu2 ))" -v hz="$hz" -v r0="$rss0" -v r1="$rss1" -v r2="$rss2" -v r3="$rss3" -v cu="$client_us" 'BEGIN {
    printf "%-9s %6d edges: connect %6.1f s (%5.2f ms CPU/handshake), config to all %6d ms (%d missed, %4.0f ms CPU), %6d msgs/s acked (%d in all), %5.0f us CPU/msg (client %3.0f), RSS %5.1f KiB/edge, publish-phase RSS %d -> %d MiB\n",
      b, e, c / 1000, hs / hz * 1000 / e, f, m, fc / hz * 1000, r, a, (a > 0 ? pc / hz * 1e6 / a : 0), (a > 0 ? cu / a : 0), (r1 - r0) / e, r2 / 1024, r3 / 1024 }'
  if [ "$broker" = external ]; then core_drain "$edges" "$acked"; fi
}

# core_verified: the running core's count of verified edge messages (0 before the first).
core_verified() {
  curl -fsS "http://127.0.0.1:$core_metrics_port/metrics" | awk '/^tapir_mqtt_messages_total\{outcome="verified"\}/ {v = $2} END {print v + 0}'
}

# core_drain EDGES ACKED: waits until the core has verified ACKED messages since the publish phase
# began (or made no progress for 10 s) and prints the core's line of the external column.
core_drain() {
  local edges=$1 acked=$2 v last t3 cpu3 still=0
  last=$(core_verified)
  while :; do
    v=$(core_verified)
    [ $(( v - core_v2 )) -ge "$acked" ] && break
    if [ "$v" = "$last" ]; then still=$(( still + 1 )); [ "$still" -ge 100 ] && break; else still=0; last=$v; fi
    sleep 0.1
  done
  t3=$(date +%s.%N)
  # Then until every message it took is republished on verified/ and acknowledged to mosquitto.
  local pending t4
  for _ in $(seq 600); do
    pending=$(curl -fsS "http://127.0.0.1:$core_metrics_port/metrics" | awk '/^tapir_mqtt_unacknowledged / {print $2}')
    [ "${pending:-0}" = 0 ] && break
    sleep 0.1
  done
  t4=$(date +%s.%N); cpu3=$(cpu_ticks "$core_pid")
  awk -v e="$edges" -v n="$(( v - core_v2 ))" -v a="$acked" -v s="$(awk -v a="$core_t2" -v b="$t3" 'BEGIN {print b - a}')" \
      -v d="$(awk -v a="$core_t2" -v b="$t4" 'BEGIN {print b - a}')" -v p="$pending" \
      -v pc="$(( cpu3 - core_cpu2 ))" -v hz="$hz" 'BEGIN {
    printf "%-9s %6d edges: core verified and stored %d of %d acked in %.1f s (%d msgs/s); all republished and acknowledged after %.1f s (%d msgs/s; %s left); %5.0f us core CPU/msg\n",
      "  core", e, n, a, s, (s > 0 ? n / s : 0), d, (d > 0 ? n / d : 0), p, (n > 0 ? pc / hz * 1e6 / n : 0) }'
}

# start_mosquitto LABEL MAX_QUEUED: mosquitto on a free port ($port) with the core's certificates (no ACL, no
# persistence, max_queued_messages MAX_QUEUED), its log in mosquitto.LABEL.log.
start_mosquitto() {
  port=$(core_free_port)
  cat >"$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
cafile $work/core/ca.crt
certfile $work/core/server.crt
keyfile $work/core/server.key
require_certificate true
use_identity_as_username true
persistence false
max_queued_messages $2
user root
CONF
  mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.$1.log" &
  mosq_pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
}

stop_mosquitto() {
  kill -TERM "$mosq_pid"; wait "$mosq_pid" || true; mosq_pid=""
}

for edges in $edges_list; do
  for mode in $modes; do
    case $mode in
      embedded)
        core_start "$work/serve.$edges.log"
        run_load tapir "$core_pid" "$core_mqtt_port" "$edges"
        core_stop ;;
      mosquitto)
        start_mosquitto "$edges" 1000
        run_load mosquitto "$mosq_pid" "$port" "$edges"
        stop_mosquitto ;;
      external)
        # The core's queue at mosquitto is unbounded here: every message the edges published is counted.
        start_mosquitto "$edges.external" 0
        core_mqtt_url=mqtts://127.0.0.1:$port TAPIR_CORE__MQTT_MODE=external core_start "$work/serve.$edges.external.log"
        for _ in $(seq 100); do grep -q 'connected to the external MQTT broker' "$work/serve.$edges.external.log" && break; sleep 0.1; done
        run_load external "$mosq_pid" "$port" "$edges"
        core_stop
        stop_mosquitto ;;
      *) echo "MQTT_MODES: unknown mode '$mode' (embedded, mosquitto, external)" >&2; exit 2 ;;
    esac
  done
done
