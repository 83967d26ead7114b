#!/usr/bin/env python3
# Writes the seed corpus fuzz/seeds/<target>/ from the conformance vectors in tests/vectors and,
# for the PKI targets, from CSRs made with the openssl CLI (fresh keys each run, so re-running
# changes those files). Seeds are deduplicated, kept under 4 KiB (afl++ works best on small inputs)
# and capped per target, so the dry run of a slow .NET target stays short.
import base64, glob, hashlib, json, os, random, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "tests", "vectors")
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
NAME = "edge1.example.net"  # Targets.CsrName
MAX_BYTES = 4096
MAX_SEEDS = 120
rng = random.Random(9)  # the cap picks the same vectors every run


def load(rel):
    with open(os.path.join(VECTORS, rel), encoding="utf-8") as f:
        return json.load(f)


def walk(node):
    """Every dict in a JSON tree."""
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def jws_seeds():
    jose = load("jose.json")
    for d in walk(jose):
        if isinstance(d.get("compact"), str):
            yield d["compact"]
        for form in ("json_general", "json_flattened"):
            if isinstance(d.get(form), (dict, str)):
                yield d[form] if isinstance(d[form], str) else json.dumps(d[form])
    for path in sorted(glob.glob(os.path.join(VECTORS, "jose-cookbook", "*", "*.json"))):
        for d in walk(json.load(open(path, encoding="utf-8"))):
            for k in ("compact", "json", "json_flat"):
                v = d.get(k)
                if isinstance(v, str):
                    yield v
                elif isinstance(v, dict):
                    yield json.dumps(v)
    for f in ("json_web_signature_test", "json_web_crypto_test", "json_web_key_test"):
        for d in walk(load(f"wycheproof/{f}.json")):
            if isinstance(d.get("jws"), str):
                yield d["jws"]
            elif isinstance(d.get("jws"), dict):
                yield json.dumps(d["jws"])


def jwk_seeds():
    for d in walk(load("jose.json")):
        if isinstance(d.get("jwk"), dict):
            yield json.dumps(d["jwk"])
    for d in walk(load("rfc9421.json")):
        if isinstance(d.get("jwk"), dict):
            yield json.dumps(d["jwk"])
    for path in sorted(glob.glob(os.path.join(VECTORS, "jose-cookbook", "jwk", "*.json"))):
        yield open(path, encoding="utf-8").read()
    for f in ("json_web_signature_test", "json_web_key_test", "json_web_crypto_test"):
        for g in load(f"wycheproof/{f}.json")["testGroups"]:
            for role in ("private", "public"):
                key = g.get(role)
                for k in key.get("keys", [key]) if isinstance(key, dict) else []:
                    yield json.dumps(k)


def sf_seeds():
    for path in sorted(glob.glob(os.path.join(VECTORS, "structured-fields", "*.json"))):
        for record in json.load(open(path, encoding="utf-8")):
            if isinstance(record.get("raw"), list):
                yield ", ".join(record["raw"])
    for d in walk(load("rfc9421.json")):
        for k in ("signature_input_member", "signature_member", "signature_params"):
            if isinstance(d.get(k), str):
                yield d[k]
    for d in walk(load("rfc9530.json")):
        if isinstance(d.get("field_value"), str):
            yield d["field_value"]


def http_seeds():
    crlf = []
    for d in walk(load("rfc9421.json")) :
        if isinstance(d.get("raw"), str) and isinstance(d.get("headers"), list):
            yield d["raw"]
            crlf.append(d["raw"].replace("\n", "\r\n"))
    for d in walk(load("rfc9530.json")):
        if isinstance(d.get("raw"), str) and isinstance(d.get("headers"), list):
            yield d["raw"]
    yield from crlf
    yield ("POST /enroll HTTP/1.1\r\nHost: core.example.net\r\nTransfer-Encoding: chunked\r\n\r\n"
           "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nDigest-Trailer: x\r\n\r\n")
    yield "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Folded: a\r\n  b\r\n\r\nok"


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, check=True, capture_output=True).stdout


def make_csrs(tmp):
    """(label, PEM bytes) for valid and near-valid CSRs."""
    keys = {
        "p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "p384": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        "ed25519": ["-algorithm", "ED25519"],
    }
    paths = {}
    for label, opts in keys.items():
        paths[label] = os.path.join(tmp, label + ".key")
        openssl("genpkey", *opts, "-out", paths[label])
    cases = [
        ("p256-san", "p256", f"/CN={NAME}", [f"subjectAltName=DNS:{NAME}"]),
        ("p256-nosan", "p256", f"/CN={NAME}", []),
        ("p384-san", "p384", f"/CN={NAME}", [f"subjectAltName=DNS:{NAME}"]),
        ("p256-wrong-cn", "p256", "/CN=other.example.net", []),
        ("p256-two-rdns", "p256", f"/O=x/CN={NAME}", []),
        ("p256-extra-san", "p256", f"/CN={NAME}", [f"subjectAltName=DNS:{NAME},IP:10.0.0.1,email:a@b.c"]),
        ("p256-eku", "p256", f"/CN={NAME}", ["extendedKeyUsage=clientAuth"]),
        ("ed25519", "ed25519", f"/CN={NAME}", []),
    ]
    for label, key, subject, exts in cases:
        args = ["req", "-new", "-key", paths[key], "-subj", subject]
        if key != "ed25519":
            args += ["-sha256"]
        for e in exts:
            args += ["-addext", e]
        yield label, openssl(*args)
    cfg = os.path.join(tmp, "attr.cnf")
    with open(cfg, "w") as f:
        f.write("[req]\ndistinguished_name=dn\nattributes=attrs\nprompt=no\n[dn]\nCN=" + NAME +
                "\n[attrs]\nchallengePassword=secret\n")
    yield "p256-attribute", openssl("req", "-new", "-key", paths["p256"], "-config", cfg, "-sha256")


def der(pem):
    body = b"".join(l for l in pem.splitlines() if l and not l.startswith(b"-----"))
    return base64.b64decode(body)


def jwk_public():
    for d in walk(load("jose.json")):
        jwk = d.get("jwk")
        if isinstance(jwk, dict) and jwk.get("kty") in ("EC", "OKP"):
            yield {k: v for k, v in jwk.items() if k != "d"}


def san_seeds():
    """subjectAltName extension values (DER GeneralNames) for the CsrSan target."""
    def tlv(tag, b):
        return bytes([tag, len(b)]) + b
    name = NAME.encode()
    yield tlv(0x30, tlv(0x82, name))
    yield tlv(0x30, tlv(0x82, name) + tlv(0x87, bytes([10, 0, 0, 1])) + tlv(0x81, b"a@b.c"))
    yield tlv(0x30, tlv(0x86, b"https://" + name + b"/"))


def write(target, items):
    folder = os.path.join(SEEDS, target)
    os.makedirs(folder, exist_ok=True)
    for old in glob.glob(os.path.join(folder, "*")):
        os.remove(old)
    unique = {}
    for item in items:
        data = item.encode("utf-8") if isinstance(item, str) else item
        if 0 < len(data) <= MAX_BYTES:
            unique.setdefault(hashlib.sha256(data).hexdigest()[:16], data)
    keys = sorted(unique)
    if len(keys) > MAX_SEEDS:
        keys = sorted(rng.sample(keys, MAX_SEEDS))
    for k in keys:
        with open(os.path.join(folder, k), "wb") as f:
            f.write(unique[k])
    print(f"{target}: {len(keys)} seeds (of {len(unique)})")


def main():
    write("JwsParser", jws_seeds())
    write("JwkParser", jwk_seeds())
    write("SfParser", sf_seeds())
    write("HttpMessageText", http_seeds())
    write("CsrSan", san_seeds())
    with tempfile.TemporaryDirectory() as tmp:
        csrs = list(make_csrs(tmp))
    write("CsrRules", [pem for _, pem in csrs] + [der(pem) for _, pem in csrs])
    valid = dict(csrs)["p256-san"].decode()
    payloads = []
    for i, jwk in enumerate(list(jwk_public())[:4]):
        p = {"timestamp": "2026-05-01T12:00:00Z", "x509_csr": valid, "public_key": jwk}
        if i % 2:
            p["x509_lifetime"] = 86400
            p["timestamp"] = "2026-05-01T12:00:00.123+02:00"
        payloads.append(json.dumps(p))
    payloads.append(json.dumps({"timestamp": "2026-05-01T12:00:00Z", "x509_csr": valid}))
    payloads.append(json.dumps({"timestamp": "2026-05-01T12:00:00-05:30", "x509_csr": valid, "x509_lifetime": 3600}))
    write("EnrollmentPayload", payloads)


if __name__ == "__main__":
    sys.exit(main())
