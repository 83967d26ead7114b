#!/usr/bin/env bash
# Runs both xunit projects (unit, vector, host and binary-level tests), then counts the results
# from the TRX files the runs wrote and prints exactly one closing line: "N passed, N failed".
# A project that did not produce results (for example because it failed to build) counts as
# one failure, so a broken build can never print a clean line.
set -u
cd "$(dirname "$0")/.."
results=build/test-results
rm -rf "$results"
mkdir -p "$results"
status=0
projects=(tests/Tapir.Security.Tests tests/Tapir.Tests)
for project in "${projects[@]}"; do
  name=$(basename "$project")
  dotnet test "$project" -c Release -p:RestoreLockedMode=true --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" || status=1
done
passed=0
failed=0
for project in "${projects[@]}"; do
  trx="$results/$(basename "$project").trx"
  if [ ! -f "$trx" ]; then
    echo "no results from $project" >&2
    failed=$((failed + 1))
    continue
  fi
  counters=$(grep -o '<Counters [^>]*>' "$trx")
  p=$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")
  f=$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")
  e=$(sed -E 's/.* error="([0-9]+)".*/\1/' <<<"$counters")
  echo "$(basename "$project"): $p passed, $f failed, $e errors"
  passed=$((passed + p))
  failed=$((failed + f + e))
done
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit "$status"
