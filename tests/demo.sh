#!/usr/bin/env bash
# `make demo`: the end-to-end path that exists today, run against the real binary in a temp dir.
set -euo pipefail
cd "$(dirname "$0")/.."
tapir=$PWD/bin/tapir
work=$(mktemp -d)
# shellcheck source=tests/lib/core.sh
. tests/lib/core.sh
# Whatever happens, the core is stopped with SIGTERM (a hung stop fails the demo) and the scratch
# directory is removed.
trap 'status=$?; core_stop || status=1; rm -rf "$work"; exit $status' EXIT
cd "$work"

echo "== tapir version"
$tapir version
echo
echo "== an edge data key (Ed448) and the core's trusted copy of its public half"
$tapir key generate --alg EdDSA --crv Ed448 --kid edge1.example.net --out edge1.jwk
$tapir key public edge1.jwk > edge1.pub.jwk
cat edge1.pub.jwk
echo "thumbprint: $($tapir key thumbprint edge1.pub.jwk)"
echo
echo "== the edge signs an MQTT payload (flattened JWS, DESIGN §6.3); anyone with the JWKS verifies it offline"
printf '{"type":"new_qname","qname":"www.example.net."}' > message.json
$tapir jws sign --key edge1.jwk --flattened message.json > message.jws
cat message.jws
printf 'payload: '; $tapir jws verify --jwks edge1.pub.jwk message.jws; echo
echo
echo "== a tampered message is refused (exit 1)"
sed 's/"signature":"./"signature":"A/' message.jws > tampered.jws
if $tapir jws verify --jwks edge1.pub.jwk tampered.jws; then echo "unexpected success"; exit 1; fi
echo
echo "== the edge signs an aggregate submission (RFC 9421, edm profile + Content-Digest); a reviewer verifies the capture"
printf 'POST /api/v1/aggregate/histogram HTTP/1.1\r\nHost: core.example.net:8443\r\nContent-Type: application/vnd.apache.parquet\r\n\r\nPAR1...PAR1' > aggregate.http
$tapir key generate --alg EdDSA --kid edge1.example.net --out edge1-25519.jwk
$tapir key public edge1-25519.jwk > edge1-25519.pub.jwk
$tapir httpsig sign --key edge1-25519.jwk --keyid edge1.example.net aggregate.http > signed.http
cat signed.http; echo
$tapir httpsig verify --jwks edge1-25519.pub.jwk --max-age 1h signed.http
echo
echo "== core and edge on this machine: init, node add, enroll, renew, remove (DESIGN §3, §4)"
export TAPIR_CORE__STATE_DIR=$work/core
$tapir core init --name core.example.net
core_start serve.log
port=$core_port
$tapir core node add edge1.example.net --out edge1.credentials.json
$tapir edge enroll --credentials edge1.credentials.json --state edge1 --crv Ed448
ls -l edge1
openssl verify -CAfile edge1/ca.crt -purpose sslclient edge1/tls.crt
printf 'jwks over mTLS: '; curl -sS --cacert edge1/ca.crt --cert edge1/tls.crt --key edge1/tls.key "https://127.0.0.1:$port/api/v1/jwks"; echo
printf 'without a client certificate: HTTP '; curl -sS -o /dev/null -w '%{http_code}\n' --cacert edge1/ca.crt "https://127.0.0.1:$port/api/v1/jwks"
$tapir edge renew --state edge1
echo "== the edge submits an aggregate over mTLS (RFC 9421-signed, Ed448 signs by key); the core answers its Location"
head -c 5000 /dev/urandom > aggregate.parquet
$tapir edge submit aggregate.parquet --type histogram --interval 2026-11-29T10:00:00Z/PT1M --state edge1
$tapir core node list
$tapir core node remove edge1.example.net
sleep 2
printf 'after removal: '; curl -sS --cacert edge1/ca.crt --cert edge1/tls.crt --key edge1/tls.key "https://127.0.0.1:$port/api/v1/jwks" 2>&1 | head -1 || true
$tapir edge renew --state edge1 --attempts 1 || echo "(renewal refused, as it must be)"
echo
echo "== stop the core as systemd does (SIGTERM): it drains, closes the database and exits 0"
core_stop
echo "core serve exited with status 0"
echo
echo "== the core's log"
cat serve.log
echo
echo "== not built yet (each says so and exits 1):"
for cmd in "core mosquitto-config"; do
  # shellcheck disable=SC2086
  if out=$($tapir $cmd 2>&1); then echo "unexpected success: $cmd"; exit 1; else echo "  $out"; fi
done
