#!/usr/bin/env bash
# `make demo`: the end-to-end path that exists today, run against the real binary in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
tapir=bin/tapir
echo "== tapir version"
$tapir version
echo
echo "== not built yet (each says so and exits 1):"
for cmd in "core init" "core serve" "edge enroll" "key generate" "jws sign" "httpsig sign"; do
  # shellcheck disable=SC2086
  if out=$($tapir $cmd 2>&1); then echo "unexpected success: $cmd"; exit 1; else echo "  $out"; fi
done
