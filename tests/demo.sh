#!/usr/bin/env bash
# `make demo`: the whole security model with real processes on 127.0.0.1 (issue 13): core, three
# edges with Ed25519, Ed448 and ES256 data keys, a core role, signed aggregates, three edge agents,
# signed MQTT, offline inspection, removal, re-verification, the core's and an agent's /metrics checked
# against what the demo did, the logs checked for secrets. One line per step, ✓ or ✗ with the figure
# that matters; every command's output goes to the log file whose path is printed at the end. Exit 0 only if every step behaved as expected. Every process started
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
enrolled=0
accepted=0
agents=()
# agents_stop: SIGTERM to every agent still running; each must exit 0 within 10 s.
agents_stop() {
  local pid s=0
  for pid in "${agents[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; s=1; fi
    wait "$pid" || s=1
  done
  agents=()
  return $s
}
trap 'status=$?; agents_stop >>"$log" 2>&1 || status=1; core_stop >>"$log" 2>&1 || status=1; rm -rf "$work"; exit $status' EXIT
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
export TAPIR_CORE__STATE_DIR=$work/core TAPIR_CORE__CORE_ROLES=reader.example.net
if run "$tapir" core init --name core.example.net; then
  ok "core init: root CA sha256 $(openssl x509 -in "$work/core/ca.crt" -noout -fingerprint -sha256 | cut -d= -f2 | cut -c1-23)… (P-256), server certificate, core data key, SQLite"
else bad "core init"; exit 1; fi
if core_start "$work/serve.log"; then ok "core serve: HTTPS API on 127.0.0.1:$core_port, MQTT broker on 127.0.0.1:$core_mqtt_port, metrics on 127.0.0.1:$core_metrics_port"; else bad "core serve did not start"; exit 1; fi
port=$core_port

section "2. three nodes, three data-key algorithms"
declare -A algs=([edge1]="--alg EdDSA --crv Ed25519" [edge2]="--alg EdDSA --crv Ed448" [edge3]="--alg ES256")
declare -A names=([edge1]=Ed25519 [edge2]=Ed448 [edge3]=ES256)
for e in edge1 edge2 edge3; do
  run "$tapir" core node add "$e.example.net" --out "$e.credentials.json" || bad "core node add $e.example.net"
  t=$(date +%s%N)
  # shellcheck disable=SC2086
  if run "$tapir" edge enroll --credentials "$e.credentials.json" --state "$e" ${algs[$e]}; then
    enrolled=$((enrolled + 1))
    serial=$(openssl x509 -in "$e/tls.crt" -noout -serial | cut -d= -f2 | cut -c1-12)
    ok "$e.example.net enrolled with an ${names[$e]} data key: certificate serial $serial… ($(ms "$t") ms)"
  else bad "$e.example.net enrollment"; fi
done

run "$tapir" core node add reader.example.net --out reader.credentials.json && run "$tapir" edge enroll --credentials reader.credentials.json --state reader \
  && enrolled=$((enrolled + 1)) && ok "reader.example.net enrolled: a core role (core.core_roles) that reads verified/… and aggregates" || bad "reader.example.net enrollment"

section "3. each edge submits a signed aggregate (RFC 9421 + Content-Digest over mTLS)"
declare -A ids=()
for e in edge1 edge2 edge3; do
  head -c 5000 /dev/urandom >"$e.parquet"
  t=$(date +%s%N)
  if run "$tapir" edge submit "$e.parquet" --type histogram --interval 2026-11-29T10:00:00Z/PT1M --state "$e"; then
    ids[$e]=${out##*/}
    accepted=$((accepted + 1))
    ok "$e: 201 Created ${out} ($(ms "$t") ms)"
  else bad "$e: submission refused"; fi
done
head -c 2000000 /dev/urandom >large.parquet
if run "$tapir" edge submit large.parquet --type vector --state edge1; then
  large=${out##*/}
  accepted=$((accepted + 1))
  ok "edge1: a 2 MB aggregate stored in its own file: ${out}"
else bad "edge1: large submission refused"; fi

section "4. the core publishes a signed configuration; three tapir edge run agents verify it"
edge_metrics_port=$(core_free_port)
for e in edge1 edge2 edge3; do
  # edge1's agent serves its own /metrics (edge.metrics_listen, off by default)
  TAPIR_EDGE__METRICS_LISTEN=$( [ $e = edge1 ] && echo "127.0.0.1:$edge_metrics_port" ) setsid "$tapir" edge run --state "$e" </dev/null 2>"$e.agent.log" &
  agents+=($!)
  if [ -n "${TAPIR_PIDS_FILE:-}" ]; then echo "$!" >>"$TAPIR_PIDS_FILE"; fi
done
wait_log() { for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }
for e in edge1 edge2 edge3; do wait_log "$e.agent.log" "subscribed to" || bad "$e: agent did not subscribe"; done
printf '{"resolver":{"tapir_pop":"on"},"version":1}' >demo.json
t=$(date +%s%N)
run "$tapir" core publish config/down/demo demo.json || bad "core publish"
for e in edge1 edge2 edge3; do
  if wait_log "$e.agent.log" "configuration demo from config/down/demo (signed by"; then
    ok "$e: verified and wrote config/demo.json ($(cmp -s "$e/config/demo.json" demo.json && echo "same bytes" || echo "DIFFERENT bytes"), $(ms "$t") ms after core publish)"
  else bad "$e: configuration not received"; fi
done

section "5. an edge publishes a signed event; altered or foreign copies are refused"
printf '{"type":"new_qname","qname":"www.example.net.","ts":"2026-12-02T03:00:00Z"}' >event.json
mosquitto_sub -V mqttv5 -q 1 -h 127.0.0.1 -p "$core_mqtt_port" --cafile reader/ca.crt --cert reader/tls.crt --key reader/tls.key -i reader.example.net \
  -t 'verified/#' -C 1 -W 20 >captured.jws 2>>"$log" &
capture=$!
sleep 1
t=$(date +%s%N)
if run "$tapir" edge publish events/up/edge1.example.net/new_qname event.json --state edge1; then
  ok "edge1: edge publish → PUBACK 0 ($(ms "$t") ms): verified, durable in the event log, republished on verified/ for core roles"
else bad "edge1: edge publish refused"; fi
wait "$capture" && [ -s captured.jws ] && ok "reader (core role) captured the message on verified/events/up/edge1.example.net/new_qname" || bad "nothing captured on verified/#"
printf '%s' "$("$tapir" jws sign --flattened --key edge1/datakey.jwk event.json 2>>"$log")" >signed.jws
python3 -c 'import json,sys; j=json.load(open("signed.jws")); p=j["payload"]; j["payload"]=p[:-2]+("A" if p[-2]!="A" else "B")+p[-1]; json.dump(j,open("altered.jws","w"))'
printf '%s' "$("$tapir" jws sign --flattened --key edge2/datakey.jwk event.json 2>>"$log")" >foreign.jws
for f in altered foreign; do
  if try mosquitto_pub -V mqttv5 -q 1 -h 127.0.0.1 -p "$core_mqtt_port" --cafile edge1/ca.crt --cert edge1/tls.crt --key edge1/tls.key -i "edge1.example.net-$f" \
      -t "events/up/edge1.example.net/$f" -f "$f.jws" -d && grep -q 'RC:135' <<<"$out"; then
    ok "a copy $( [ $f = altered ] && echo "with one payload byte changed" || echo "signed by edge2" ) on edge1's topic: PUBACK 0x87; core log: $(grep -o "events/up/edge1.example.net/$f.: [A-Za-z]*[^\"]*" "$work/serve.log" | tail -1 | cut -c1-80)"
  else bad "$f copy not refused"; fi
done

section "6. inspection: anyone with the public keys can check the data, nobody can alter it"
curl -sS --cacert reader/ca.crt --cert reader/tls.crt --key reader/tls.key "https://127.0.0.1:$port/api/v1/node/edge1.example.net/public_key" >edge1.pub.jwk 2>>"$log"
if run "$tapir" inspect captured.jws --jwks edge1.pub.jwk; then ok "tapir inspect of the captured MQTT payload with edge1's public key: $(head -1 <<<"$out" | cut -c1-90)"
else bad "inspect of the captured MQTT payload"; fi
if [ ! -s altered.jws ] || try "$tapir" inspect altered.jws --jwks edge1.pub.jwk; then bad "inspect accepted the altered payload (or there was none)"
else ok "the altered copy fails offline too: $(tail -1 <<<"$out" | cut -c1-90)"; fi
id=${ids[edge2]:-}
curl -sS --cacert reader/ca.crt --cert reader/tls.crt --key reader/tls.key "https://127.0.0.1:$port/api/v1/aggregates/$id" >meta.json 2>>"$log"
curl -sS --cacert reader/ca.crt --cert reader/tls.crt --key reader/tls.key "https://127.0.0.1:$port/api/v1/aggregates/$id/payload" >payload.bin 2>>"$log"
curl -sS --cacert reader/ca.crt --cert reader/tls.crt --key reader/tls.key "https://127.0.0.1:$port/api/v1/node/edge2.example.net/public_key" >edge2.pub.jwk 2>>"$log"
python3 - meta.json payload.bin captured.http <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); body = open(sys.argv[2], "rb").read()
head = f"POST /api/v1/aggregate/{m['aggregate_type']} HTTP/1.1\r\nHost: core\r\n" + "".join(f"{k}: {v}\r\n" for k, v in m["headers"].items()) + "\r\n"
open(sys.argv[3], "wb").write(head.encode() + body)
PY
if run "$tapir" inspect captured.http --jwks edge2.pub.jwk; then ok "tapir inspect of edge2's submission rebuilt from what the core stores (Ed448): $(head -1 <<<"$out" | cut -c1-80)"
else bad "inspect of the stored submission"; fi

if run "$tapir" edge audit --state edge1 && grep -q '  mqtt  .*events/up/edge1.example.net/new_qname' <<<"$out"; then
  ok "tapir edge audit: everything edge1 sent, $(grep -c '  aggregate  ' <<<"$out") aggregates and $(grep -c '  mqtt  ' <<<"$out") MQTT messages, each with its SHA-256 and the core's answer"
else bad "edge1's outbound audit log"; fi

section "7. one node is removed"
run "$tapir" core node remove edge3.example.net && ok "core node remove edge3.example.net: its certificates revoked" || bad "core node remove"
sleep 2
if try "$tapir" edge submit edge3.parquet --type histogram --state edge3 --attempts 1; then bad "edge3: submission after removal was accepted"
else ok "edge3: submission refused at the TLS handshake; core log: $(grep -o 'client certificate CN=edge3.* (CertificateRevoked)' "$work/serve.log" | tail -1 | sed 's/ serial [0-9A-F]*//')"; fi
if try "$tapir" edge renew --state edge3 --attempts 1; then bad "edge3: renewal after removal was accepted"
else ok "edge3: renewal refused: $(tail -1 <<<"$out")"; fi
if try mosquitto_pub -V mqttv5 -q 1 -h 127.0.0.1 -p "$core_mqtt_port" --cafile edge3/ca.crt --cert edge3/tls.crt --key edge3/tls.key -i edge3.example.net \
    -t events/up/edge3.example.net/x -m '{}'; then bad "edge3: MQTT connection after removal was accepted"
else ok "edge3: MQTT connection refused at the TLS handshake; its agent: $(grep -o 'disconnected from the broker[^"]*\|cannot connect[^"]*' edge3.agent.log | tail -1 | sed -E 's/ \(attempt [0-9]+: /: /; s/\)$//; s/\. .*//')"; fi

section "8. stored aggregates are re-verified offline; a changed byte is named"
if run "$tapir" core aggregates verify --all; then ok "core aggregates verify --all: $(grep -c ': ok ' <<<"$out") of $(wc -l <<<"$out") ok (the removed node's too)"
else bad "core aggregates verify --all"; fi
file=$(find "$work/core/aggregates" -type f -name "$large*" | head -1)
if [ -n "$file" ]; then
  printf 'X' | dd of="$file" bs=1 seek=1000 conv=notrunc status=none
  if try "$tapir" core aggregates verify --all; then bad "verify did not notice the changed byte"
  else ok "after one byte of $large's payload file changed: $(grep "$large" <<<"$out" | sed 's/^ *//')"; fi
else bad "no payload file for $large"; fi

section "9. metrics: the counters match what the demo did"
curl -sS "http://127.0.0.1:$core_metrics_port/metrics" >core.metrics 2>>"$log"
curl -sS "http://127.0.0.1:$edge_metrics_port/metrics" >edge1.metrics 2>>"$log"
cat core.metrics edge1.metrics >>"$log"
# Expected: what the steps above counted, and what the logs say was published, refused and written.
verified=$(( 1 + $(cat ./*.agent.log | grep -c 'msg="status published on') ))
refused=$(grep -o "MQTT publish refused: node [^ ]* topic '[^']*': [A-Za-z]*" "$work/serve.log" | sed 's/.*: //' | sort | uniq -c | awk '{printf "%s%s=%s", (NR > 1 ? "," : ""), $2, $1}')
edge1_verified=$(grep -c 'msg="configuration .* written to\|msg="trusted JWKS replaced\|msg="observation on' edge1.agent.log)
edge1_refused=$(grep -c ' ignored: ' edge1.agent.log)
edge1_written=$(grep -c 'msg="configuration .* written to' edge1.agent.log)
edge1_status=$(grep -c 'msg="status published on' edge1.agent.log)
if try python3 - core.metrics edge1.metrics "$enrolled" "$accepted" "$verified" "$refused" "$edge1_verified" "$edge1_refused" "$edge1_written" "$edge1_status" <<'PY'
import re, sys
def samples(path):
    out = {}
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        m = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (\S+)\n', line)
        assert m, f"not a sample line: {line!r}"
        out[m[1] + (m[2] or "")] = float(m[3])
    return out
def total(s, prefix):
    return int(sum(v for k, v in s.items() if k.startswith(prefix)))
core, edge = samples(sys.argv[1]), samples(sys.argv[2])
enrolled, accepted, verified = map(int, sys.argv[3:6])
refused = dict((k, int(v)) for k, v in (p.split("=") for p in sys.argv[6].split(",") if p))
e_verified, e_refused, e_written, e_status = map(int, sys.argv[7:11])
got_refused = {re.search(r'reason="([^"]*)"', k)[1]: int(v) for k, v in core.items() if k.startswith('tapir_mqtt_messages_total{outcome="refused"')}
checks = [
    ("enrollments issued", total(core, 'tapir_enrollments_total{outcome="issued"'), enrolled),
    ("aggregates accepted", total(core, 'tapir_aggregates_total{outcome="accepted"'), accepted),
    ("MQTT messages verified", total(core, 'tapir_mqtt_messages_total{outcome="verified"'), verified),
    ("MQTT messages refused by reason", got_refused, refused),
    ("edge1 messages verified", total(edge, 'tapir_edge_messages_total{outcome="verified"'), e_verified),
    ("edge1 messages refused", total(edge, 'tapir_edge_messages_total{outcome="refused"'), e_refused),
    ("edge1 configurations written", total(edge, "tapir_edge_configurations_written_total"), e_written),
    ("edge1 status messages sent", total(edge, 'tapir_edge_status_messages_total{outcome="sent"'), e_status),
    ("edge1 connected", total(edge, "tapir_edge_mqtt_connected"), 1),
]
wrong = [f"{name}: /metrics says {got}, the demo did {want}" for name, got, want in checks if got != want]
if wrong:
    print("; ".join(wrong))
    sys.exit(1)
reasons = " + ".join(f"{n} {r}" for r, n in sorted(refused.items()))
expiry = min(v for k, v in edge.items() if k.startswith("tapir_edge_certificate_expiry_seconds"))
print(f"core /metrics: {enrolled} enrollments, {accepted} aggregates accepted, MQTT messages {verified} verified, refused {reasons}")
print(f"edge1 /metrics (edge.metrics_listen): messages {e_verified} verified, {e_refused} refused; configurations written {e_written}; status sent {e_status}; connected; certificate {expiry / 86400:.0f} d left")
PY
then ok "$(sed -n 1p <<<"$out")"; ok "$(sed -n 2p <<<"$out")"; else bad "metrics do not match: $(tail -1 <<<"$out")"; fi

section "10. stop"
if agents_stop >>"$log" 2>&1; then ok "three edge agents stopped by SIGTERM: exit 0 each"; else bad "an edge agent did not stop cleanly"; fi
if core_stop >>"$log" 2>&1; then ok "core serve stopped by SIGTERM: exit 0 ($(tail -1 "$work/serve.log" | sed -n 's/.*msg="\(.*\)"$/\1/p'))"
else bad "core serve did not stop cleanly"; fi
cat "$work/serve.log" ./*.agent.log >>"$log"
# Every secret the demo handled: enrollment secrets, private data keys, private TLS and CA keys.
secrets=$( { for f in ./*.credentials.json; do python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["key"]["k"])' "$f"; done
  for f in ./*/datakey.jwk "$work/core/core-data.jwk"; do python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["d"])' "$f"; done
  for f in ./*/tls.key "$work/core/ca.key" "$work/core/server.key"; do grep -v -- '-----' "$f"; done; } 2>>"$log")
leaks=$(grep -c -F -f <(printf '%s\n' "$secrets" | grep -v '^$') "$log" "$work/serve.log" ./*.agent.log 2>/dev/null | awk -F: '{s += $NF} END {print s + 0}')
if [ "$leaks" -eq 0 ] && [ "$(wc -l <<<"$secrets")" -gt 20 ]; then ok "no secret in any log: $(wc -l <<<"$secrets") secret lines checked against the core's, the agents' and the demo's logs"
else bad "secrets found in the logs: $leaks lines"; fi

printf '\n%d steps, %d failed. Details: %s\n' "$steps" "$failures" "$log"
[ "$failures" -eq 0 ]
