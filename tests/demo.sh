#!/usr/bin/env bash
# `make demo`: the whole security model with real processes on 127.0.0.1 (issue 13). One line per
# step, ✓ or ✗ with the figure that matters; every command's output goes to the log file whose
# path is printed at the end. Exit 0 only if every step behaved as expected. Every process started
# is stopped with SIGTERM and must exit 0; the scratch directory is removed.
set -uo pipefail
cd "$(dirname "$0")/.."
tapir=$PWD/bin/tapir
mkdir -p build
log=$PWD/build/demo.log
: >"$log"
work=$(mktemp -d)
# shellcheck source=tests/lib/core.sh
. tests/lib/core.sh
failures=0
steps=0
trap 'status=$?; core_stop >>"$log" 2>&1 || status=1; rm -rf "$work"; exit $status' EXIT
cd "$work"

# ok TEXT / bad TEXT: one line of the transcript, and the same line in the log.
ok() { steps=$((steps + 1)); printf '  \342\234\223 %s\n' "$1" | tee -a "$log"; }
bad() { steps=$((steps + 1)); failures=$((failures + 1)); printf '  \342\234\227 %s\n' "$1" | tee -a "$log"; }
# run CMD...: runs a command with its output in the log; its stdout is also left in $out.
run() { echo "\$ $*" >>"$log"; out=$("$@" 2>>"$log"); local s=$?; printf '%s\n' "$out" >>"$log"; return $s; }
# try CMD...: like run, with stderr too in $out (for the steps that must be refused).
try() { echo "\$ $*" >>"$log"; out=$("$@" 2>&1); local s=$?; printf '%s\n' "$out" >>"$log"; return $s; }
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
section() { printf '\n%s\n' "$1" | tee -a "$log"; }

section "1. core: init and serve"
export TAPIR_CORE__STATE_DIR=$work/core
if run "$tapir" core init --name core.example.net; then
  ok "core init: root CA sha256 $(openssl x509 -in "$work/core/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2 | cut -c1-23)… (P-256), server certificate, core data key, SQLite"
else bad "core init"; exit 1; fi
if core_start "$work/serve.log"; then ok "core serve: HTTPS API on 127.0.0.1:$core_port, metrics on 127.0.0.1:$core_metrics_port"; else bad "core serve did not start"; exit 1; fi
port=$core_port

section "2. three nodes, three data-key algorithms"
declare -A algs=([edge1]="--alg EdDSA --crv Ed25519" [edge2]="--alg EdDSA --crv Ed448" [edge3]="--alg ES256")
declare -A names=([edge1]=Ed25519 [edge2]=Ed448 [edge3]=ES256)
for e in edge1 edge2 edge3; do
  run "$tapir" core node add "$e.example.net" --out "$e.credentials.json" || bad "core node add $e.example.net"
  t=$(date +%s%N)
  # shellcheck disable=SC2086
  if run "$tapir" edge enroll --credentials "$e.credentials.json" --state "$e" ${algs[$e]}; then
    serial=$(openssl x509 -in "$e/tls.crt" -noout -serial | cut -d= -f2 | cut -c1-12)
    ok "$e.example.net enrolled with an ${names[$e]} data key: certificate serial $serial… ($(ms "$t") ms)"
  else bad "$e.example.net enrollment"; fi
done

section "3. each edge submits a signed aggregate (RFC 9421 + Content-Digest over mTLS)"
declare -A ids=()
for e in edge1 edge2 edge3; do
  head -c 5000 /dev/urandom >"$e.parquet"
  t=$(date +%s%N)
  if run "$tapir" edge submit "$e.parquet" --type histogram --interval 2026-11-29T10:00:00Z/PT1M --state "$e"; then
    ids[$e]=${out##*/}
    ok "$e: 201 Created ${out} ($(ms "$t") ms)"
  else bad "$e: submission refused"; fi
done
head -c 2000000 /dev/urandom >large.parquet
if run "$tapir" edge submit large.parquet --type vector --state edge1; then
  large=${out##*/}
  ok "edge1: a 2 MB aggregate stored in its own file: ${out}"
else bad "edge1: large submission refused"; fi

section "7. one node is removed"
run "$tapir" core node remove edge3.example.net && ok "core node remove edge3.example.net: its certificates revoked" || bad "core node remove"
sleep 2
if try "$tapir" edge submit edge3.parquet --type histogram --state edge3 --attempts 1; then bad "edge3: submission after removal was accepted"
else ok "edge3: submission refused at the TLS handshake; core log: $(grep -o 'client certificate CN=edge3.* (CertificateRevoked)' "$work/serve.log" | tail -1 | sed 's/ serial [0-9A-F]*//')"; fi
if try "$tapir" edge renew --state edge3 --attempts 1; then bad "edge3: renewal after removal was accepted"
else ok "edge3: renewal refused: $(tail -1 <<<"$out")"; fi

section "8. stored aggregates are re-verified offline; a changed byte is named"
if run "$tapir" core aggregates verify --all; then ok "core aggregates verify --all: $(grep -c ': ok ' <<<"$out") of $(wc -l <<<"$out") ok (the removed node's too)"
else bad "core aggregates verify --all"; fi
file=$(find "$work/core/aggregates" -type f -name "$large*" | head -1)
if [ -n "$file" ]; then
  printf 'X' | dd of="$file" bs=1 seek=1000 conv=notrunc status=none
  if try "$tapir" core aggregates verify --all; then bad "verify did not notice the changed byte"
  else ok "after one byte of $large's payload file changed: $(grep "$large" <<<"$out" | sed 's/^ *//')"; fi
else bad "no payload file for $large"; fi

section "9. stop"
if core_stop >>"$log" 2>&1; then ok "core serve stopped by SIGTERM: exit 0 ($(tail -1 "$work/serve.log" | sed -n 's/.*msg="\(.*\)"$/\1/p'))"
else bad "core serve did not stop cleanly"; fi
cat "$work/serve.log" >>"$log"

printf '\n%d steps, %d failed. Details: %s\n' "$steps" "$failures" "$log"
[ "$failures" -eq 0 ]
