"""Interop peer: enrolls and renews the way DNS TAPIR's own client (dnstapir-cli / nodeman
client) does, written from nodeman's published protocol: each JWS protected header carries only
"alg"; the payload has an ISO 8601 timestamp from datetime.isoformat(), a PEM CSR with CN and SAN
set to the node name, and the public data key as exported by jwcrypto (kid = name, no alg); the
enrollment JWS is jwcrypto's general JSON, the renewal its flattened JSON. Uses Debian's
python3-jwcrypto and python3-cryptography only.

usage: nodeman-client.py CREDENTIALS_JSON CA_PEM OUT_DIR
prints the enrollment and renewal certificate serials; exits non-zero on any failure.
"""
import json
import ssl
import sys
import urllib.request
from datetime import datetime, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS


def csr_for(name, key):
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
    builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def post(url, body, context):
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return json.loads(response.read())


def main():
    credentials = json.load(open(sys.argv[1]))
    context = ssl.create_default_context(cafile=sys.argv[2])
    out = sys.argv[3]
    name, server = credentials["name"], credentials["nodeman_url"].rstrip("/")
    enrollment_key = JWK(**credentials["key"])
    data_key = JWK.generate(kty="EC", crv="P-256", kid=name)
    tls_key = ec.generate_private_key(ec.SECP256R1())

    payload = json.dumps({
        "timestamp": datetime.now(tz=timezone.utc).isoformat(),
        "x509_csr": csr_for(name, tls_key),
        "public_key": data_key.export_public(as_dict=True),
    })
    jws = JWS(payload=payload)
    jws.add_signature(key=enrollment_key, alg="HS256", protected={"alg": "HS256"})
    jws.add_signature(key=data_key, alg="ES256", protected={"alg": "ES256"})
    enrolled = post(f"{server}/api/v1/node/{name}/enroll", json.loads(jws.serialize()), context)
    for field in ("x509_certificate", "x509_ca_certificate", "mqtt_broker", "mqtt_topics", "trusted_jwks"):
        assert field in enrolled, field
    open(f"{out}/data.json", "w").write(data_key.export())
    print("enrolled", enrolled["x509_certificate_serial_number"])

    renewal_key = ec.generate_private_key(ec.SECP256R1())
    payload = json.dumps({"timestamp": datetime.now(tz=timezone.utc).isoformat(), "x509_csr": csr_for(name, renewal_key)})
    jws = JWS(payload=payload)
    jws.add_signature(key=data_key, alg="ES256", protected={"alg": "ES256"})
    renewed = post(f"{server}/api/v1/node/{name}/renew", json.loads(jws.serialize()), context)
    certificate = x509.load_pem_x509_certificate(renewed["x509_certificate"].encode())
    assert certificate.public_key().public_numbers() == renewal_key.public_key().public_numbers()
    print("renewed", renewed["x509_certificate_serial_number"])


main()
