#!/usr/bin/env bash
# Enrollment time, end to end with the real binary: `tapir edge enroll` (process start, key
# generation, CA pinning, the two-signature JWS, TLS, issuance, durable commit, state files)
# against a local `tapir core serve`, 50 times; prints the median and the 90th percentile.
# For scale, the same machine's `openssl speed` P-256 signing rate is printed beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
tapir=$PWD/bin/tapir
work=$(mktemp -d)
port=$(( 20000 + RANDOM % 12000 ))  # below the ephemeral range (32768+): no outgoing connection holds it
export TAPIR_CORE__STATE_DIR=$work/core TAPIR_CORE__LISTEN=127.0.0.1:$port TAPIR_CORE__PUBLIC_URL=https://127.0.0.1:$port/
"$tapir" core init >/dev/null
"$tapir" core serve 2>"$work/serve.log" &
serve=$!
trap 'kill $serve 2>/dev/null; wait $serve 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
times=()
for i in $(seq -w 1 50); do
  "$tapir" core node add "edge$i.example.net" --out "$work/c$i.json" >/dev/null
  start=$(date +%s%N)
  "$tapir" edge enroll --credentials "$work/c$i.json" --state "$work/edge$i" >/dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000 )))
done
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=$(( (sorted[24] + sorted[25]) / 2 ))
printf 'enrollment (tapir edge enroll, end to end): median %.1f ms, p90 %.1f ms, min %.1f ms over 50\n' \
  "$(awk -v v="$median" 'BEGIN{print v/1000}')" "$(awk -v v="${sorted[44]}" 'BEGIN{print v/1000}')" "$(awk -v v="${sorted[0]}" 'BEGIN{print v/1000}')"
p256=$(openssl speed -seconds 1 ecdsap256 2>/dev/null | awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1)}' | tail -n1)
printf 'reference: openssl speed P-256 sign %s ops/s on this machine; median enrollment = %.0f P-256 signatures\n' "$p256" \
  "$(awk -v m="$median" -v s="$p256" 'BEGIN{print m/1000000*s}')"
