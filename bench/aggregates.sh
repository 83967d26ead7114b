#!/usr/bin/env bash
# Aggregate submissions (DESIGN §5.3, §7), durable end to end: a real `tapir core serve`
# (WAL, synchronous=FULL, group commit) receives pre-signed, distinct 4 KiB edm-profile submissions
# over kept-alive mTLS from 1, 16 and 64 concurrent connections of enrolled edges (one load client,
# bench/load, every request answered 201 only after its commit). Beside it, the same load client and
# the same requests against Debian's nginx as an mTLS POST sink with the same certificates (the
# transport ceiling on this machine). Then one 256 MiB body's MB/s beside `openssl speed -evp sha256`,
# with the disk's own write+fdatasync rate for scale, and the core's CPU time per submission (utime +
# stime from /proc/<pid>/stat, in µs).
set -euo pipefail
cd "$(dirname "$0")/.."
tapir=$PWD/bin/tapir
work=$(mktemp -d)
# shellcheck source=tests/lib/core.sh
. tests/lib/core.sh
nginx_pid=""

# nginx_stop: SIGTERM (fast shutdown), then at most 10 s for exit status 0.
nginx_stop() {
  [ -n "$nginx_pid" ] || return 0
  local pid=$nginx_pid status=0
  nginx_pid=""
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: nginx (pid $pid) still running 10 s after SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
  fi
  wait "$pid" || status=$?
  [ "$status" -eq 0 ] || { echo "FAIL: nginx exited with status $status after SIGTERM" >&2; return 1; }
}
trap 'status=$?; core_stop || status=1; nginx_stop || status=1; rm -rf "$work"; exit $status' EXIT
command -v nginx >/dev/null || { echo "bench/aggregates.sh: nginx is needed (apt-get install nginx)" >&2; exit 1; }

dotnet build bench/load -c Release -o build/load --nologo -v quiet >"$work/load-build.log" 2>&1 || { cat "$work/load-build.log" >&2; exit 1; }
load=$PWD/build/load/tapir-load
edge_count=${AGGREGATE_EDGES:-64}

export TAPIR_CORE__STATE_DIR=$work/core
"$tapir" core init >/dev/null
core_start "$work/serve.log"
edges=""
for i in $(seq -w 1 "$edge_count"); do
  "$tapir" core node add "edge$i.example.net" --out "$work/c$i.json" >/dev/null
  "$tapir" edge enroll --credentials "$work/c$i.json" --state "$work/edge$i" >/dev/null
  edges+="${edges:+,}$work/edge$i"
done
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

# run_load PORT CONNECTIONS REQUESTS: one load run; prints its result line.
run_load() { "$load" port="$1" ca="$work/core/ca.crt" edges="$edges" connections="$2" requests="$3" size=4096; }

run_load "$core_port" 16 2000 >/dev/null # warm-up, not reported
declare -A core_line core_cpu
for n in 1 16 64; do
  requests=$(( n == 1 ? 2000 : n == 16 ? 16000 : 32000 ))
  before=$(cpu_ticks "$core_pid")
  core_line[$n]=$(run_load "$core_port" "$n" "$requests")
  after=$(cpu_ticks "$core_pid")
  core_cpu[$n]=$(awk -v t=$(( after - before )) -v hz="$ticks" -v r="$requests" 'BEGIN{printf "%.0f", t / hz / r * 1e6}')
done
large=$("$load" port="$core_port" ca="$work/core/ca.crt" edges="$work/edge01" large=$(( 256 * 1024 * 1024 )))
stored=$("$tapir" core aggregates list | tail -n +2 | wc -l)
core_stop

# The transport ceiling: nginx, the same server certificate, clients verified against the tapir root.
mkdir -p "$work/nginx"
for _ in $(seq 100); do
  nginx_port=$(( 20000 + RANDOM % 12000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null || break
done
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  keepalive_requests 1000000;
  client_max_body_size 300m;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:$nginx_port ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate $work/core/server.crt;
    ssl_certificate_key $work/core/server.key;
    ssl_client_certificate $work/core/ca.crt;
    ssl_verify_client on;
    location / { return 201; }
  }
}
CONF
setsid nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" </dev/null &
nginx_pid=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$nginx_port") 2>/dev/null && break; sleep 0.1; done
run_load "$nginx_port" 16 2000 >/dev/null # warm-up
declare -A nginx_line
for n in 1 16 64; do
  requests=$(( n == 1 ? 2000 : n == 16 ? 16000 : 32000 ))
  nginx_line[$n]=$(run_load "$nginx_port" "$n" "$requests")
done
nginx_stop

# The disk's own ceiling for a durable large body: 256 MiB written and fdatasync'd in the same file system.
disk=$(dd if=/dev/zero of="$work/disk-test" bs=1M count=256 conv=fdatasync 2>&1 | awk -F', ' '/copied/ {print $NF}')
rm -f "$work/disk-test"
sha=$(openssl speed -seconds 2 -evp sha256 2>/dev/null | awk '/^sha256/ {v=$NF} END {sub(/k$/, "", v); printf "%.0f", v / 1000}')
printf '\naggregate submissions, 4 KiB bodies, kept-alive mTLS, durable (201 after the group commit), %d enrolled edges:\n' "$edge_count"
printf '%-12s %12s %9s %9s %14s %12s %9s %9s %10s\n' connections "tapir sub/s" "p50 ms" "p99 ms" "CPU µs/sub" "nginx req/s" "p50 ms" "p99 ms" "tapir/nginx"
for n in 1 16 64; do
  t=${core_line[$n]} g=${nginx_line[$n]}
  printf '%-12s %12s %9s %9s %14s %12s %9s %9s %9.0f%%\n' "$n" "$(field rate "$t")" "$(field p50_ms "$t")" "$(field p99_ms "$t")" "${core_cpu[$n]}" \
    "$(field rate "$g")" "$(field p50_ms "$g")" "$(field p99_ms "$g")" "$(awk -v a="$(field rate "$t")" -v b="$(field rate "$g")" 'BEGIN{print 100 * a / b}')"
done
mbs=$(field mb_per_s "$large")
printf 'one 256 MiB body: %s MB/s (hashed, written, fsynced, committed); openssl speed -evp sha256 (16 KiB blocks): %s MB/s; ratio %.0f%%\n' \
  "$mbs" "$sha" "$(awk -v a="$mbs" -v b="$sha" 'BEGIN{print 100 * a / b}')"
printf 'disk ceiling (dd 256 MiB + fdatasync in the state directory'"'"'s file system): %s\n' "$disk"
printf 'rows stored by the core during the run: %s (expected %s)\n' "$stored" $(( 2000 + 2000 + 16000 + 32000 + 1 ))
[ "$stored" -eq $(( 2000 + 2000 + 16000 + 32000 + 1 )) ] || { echo "FAIL: the core stored $stored rows" >&2; exit 1; }
