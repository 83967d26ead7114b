#!/usr/bin/env bash
# Enrollment time, end to end with the real binary: `tapir edge enroll` (process start, key
# generation, CA pinning, the two-signature JWS, TLS, issuance, durable commit, state files)
# against a local `tapir core serve`, 50 times (ENROLL_COUNT to change it); prints the median and
# the 90th percentile.
# For scale, the same machine's `openssl speed` P-256 signing rate is printed beside it.
set -euo pipefail
cd "$(dirname "$0")/.."
tapir=$PWD/bin/tapir
work=$(mktemp -d)
# shellcheck source=tests/lib/core.sh
. tests/lib/core.sh
trap 'status=$?; core_stop || status=1; rm -rf "$work"; exit $status' EXIT
export TAPIR_CORE__STATE_DIR=$work/core
"$tapir" core init >/dev/null
core_start "$work/serve.log"
n=${ENROLL_COUNT:-50}
times=()
for i in $(seq -w 1 "$n"); do
  "$tapir" core node add "edge$i.example.net" --out "$work/c$i.json" >/dev/null
  start=$(date +%s%N)
  "$tapir" edge enroll --credentials "$work/c$i.json" --state "$work/edge$i" >/dev/null
  end=$(date +%s%N)
  times+=($(( (end - start) / 1000 )))
done
core_stop
sorted=($(printf '%s\n' "${times[@]}" | sort -n))
median=$(( (sorted[(n - 1) / 2] + sorted[n / 2]) / 2 ))
p90=${sorted[(n * 9 + 9) / 10 - 1]}
printf 'enrollment (tapir edge enroll, end to end): median %.1f ms, p90 %.1f ms, min %.1f ms over %d\n' \
  "$(awk -v v="$median" 'BEGIN{print v/1000}')" "$(awk -v v="$p90" 'BEGIN{print v/1000}')" "$(awk -v v="${sorted[0]}" 'BEGIN{print v/1000}')" "$n"
p256=$(openssl speed -seconds 1 ecdsap256 2>/dev/null | awk '/256 bits ecdsa \(nistp256\)/ {print $(NF-1)}' | tail -n1)
printf 'reference: openssl speed P-256 sign %s ops/s on this machine; median enrollment = %.0f P-256 signatures\n' "$p256" \
  "$(awk -v m="$median" -v s="$p256" 'BEGIN{print m/1000000*s}')"
