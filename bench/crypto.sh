#!/usr/bin/env bash
# Signature throughput through tapir (bin/tapir bench crypto) next to OpenSSL's own
# `openssl speed` for the same algorithms, run back to back on this machine, as ratios.
# Both are single-threaded; the ratio is what to compare across machines, not the raw numbers.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${BENCH_SECONDS:-3}
tapir=$(bin/tapir bench crypto --seconds "$seconds")
speed=$(openssl speed -seconds "$seconds" ed25519 ed448 ecdsap256 2>/dev/null)
# openssl speed prints e.g. " 253 bits EdDSA (Ed25519)   0.0000s   0.0001s  41000.0  14000.0"
# and " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  43000.0  14000.0".
ossl() { awk -v pat="$1" -v col="$2" '$0 ~ pat { print $(NF - col) }' <<<"$speed" | tail -n 1; }
printf '%-10s %-6s %14s %14s %8s\n' algorithm op "tapir ops/s" "openssl ops/s" ratio
row() {
  local name=$1 pat=$2
  for op in sign verify; do
    local col=$([ "$op" = sign ] && echo 1 || echo 0)
    local t o
    t=$(awk -v n="$name" -v op="$op" '$1 == n { for (i = 2; i < NF; i++) if ($i == op) print $(i + 1) }' <<<"$tapir")
    o=$(ossl "$pat" "$col")
    printf '%-10s %-6s %14.0f %14.0f %8.2f\n' "$name" "$op" "$t" "$o" "$(awk -v a="$t" -v b="$o" 'BEGIN { print a / b }')"
  done
}
row ed25519 'EdDSA \\(Ed25519\\)'
row ed448 'EdDSA \\(Ed448\\)'
row p256 'ecdsa \\(nistp256\\)'
