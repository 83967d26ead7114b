"""Interop peer on Debian's python3-jwcrypto: the same task protocol as jose-peer.mjs.

Reads a JSON array of tasks on stdin and prints one result per task; every signature of a
general JWS is verified separately against the key whose kid it names.
"""
import base64
import json
import sys

from jwcrypto import jwk, jws


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(task):
    payload = b64u_decode(task["payload_b64u"])
    token = jws.JWS(payload)
    for key in [task["jwk"]] + ([task["extra_jwk"]] if task.get("extra_jwk") else []):
        header = json.dumps({"alg": key["alg"], "kid": key["kid"]})
        token.add_signature(jwk.JWK(**key), alg=key["alg"], protected=header)
    if task["serialization"] == "compact":
        return {"jws": token.serialize(compact=True)}
    out = json.loads(token.serialize())
    if task["serialization"] == "general" and "signatures" not in out:
        out = {"payload": out["payload"], "signatures": [{"protected": out["protected"], "signature": out["signature"]}]}
    return {"jws": json.dumps(out)}


def verify_one(keys, protected, payload, signature):
    header = json.loads(b64u_decode(protected))
    key = next(k for k in keys["keys"] if k["kid"] == header["kid"])
    token = jws.JWS()
    token.deserialize(json.dumps({"protected": protected, "payload": payload, "signature": signature}))
    token.verify(jwk.JWK(**key), alg=key["alg"])
    return b64u(token.payload)


def verify(task):
    text = task["jws"].strip()
    if not text.startswith("{"):
        protected, payload, signature = text.split(".")
        return {"payload_b64u": verify_one(task["jwks"], protected, payload, signature)}
    obj = json.loads(text)
    result = None
    for sig in obj.get("signatures", [obj]):
        result = verify_one(task["jwks"], sig["protected"], obj["payload"], sig["signature"])
    return {"payload_b64u": result}


def main():
    results = []
    for task in json.load(sys.stdin):
        try:
            results.append(sign(task) if task["op"] == "sign" else verify(task))
        except Exception as error:  # every failure is reported, never raised
            results.append({"error": f"{type(error).__name__}: {error}"})
    json.dump(results, sys.stdout)


main()
