// Interop peer on npm `http-message-sig` (Cloudflare's RFC 9421 library). Reads a JSON array of
// tasks on stdin, prints one result per task.
// sign:   {op, request:{method,targetUri,fields:[[n,v]]}, jwk, alg, label, components, params}
//         -> {signatureInput, signature}
// verify: {op, request (with Signature-Input/Signature), jwk, alg, label, components, now}
//         -> {label, keyid} or {error}
// alg is an RFC 9421 name; "jws:Ed448" means no alg parameter (RFC 9421 §3.3.7) with an Ed448 key.
import crypto from 'node:crypto';
import { createSignature, verifySignature } from 'http-message-sig';

function primitives(alg, jwk) {
  const isPrivate = 'd' in jwk || jwk.kty === 'oct';
  const key = jwk.kty === 'oct' ? Buffer.from(jwk.k, 'base64url')
    : isPrivate ? crypto.createPrivateKey({ key: jwk, format: 'jwk' }) : crypto.createPublicKey({ key: jwk, format: 'jwk' });
  const pub = jwk.kty === 'oct' || !isPrivate ? key : crypto.createPublicKey(key);
  const table = {
    'ed25519': [(d) => crypto.sign(null, d, key), (d, s) => crypto.verify(null, d, pub, s)],
    'jws:Ed448': [(d) => crypto.sign(null, d, key), (d, s) => crypto.verify(null, d, pub, s)],
    'ecdsa-p256-sha256': [(d) => crypto.sign('sha256', d, { key, dsaEncoding: 'ieee-p1363' }), (d, s) => crypto.verify('sha256', d, { key: pub, dsaEncoding: 'ieee-p1363' }, s)],
    'ecdsa-p384-sha384': [(d) => crypto.sign('sha384', d, { key, dsaEncoding: 'ieee-p1363' }), (d, s) => crypto.verify('sha384', d, { key: pub, dsaEncoding: 'ieee-p1363' }, s)],
    'rsa-pss-sha512': [(d) => crypto.sign('sha512', d, { key, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }),
      (d, s) => crypto.verify('sha512', d, { key: pub, padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }, s)],
    'rsa-v1_5-sha256': [(d) => crypto.sign('sha256', d, key), (d, s) => crypto.verify('sha256', d, pub, s)],
    'hmac-sha256': [(d) => crypto.createHmac('sha256', key).update(d).digest(),
      (d, s) => { const m = crypto.createHmac('sha256', key).update(d).digest(); return m.length === s.length && crypto.timingSafeEqual(m, Buffer.from(s)); }],
  };
  const [sign, verify] = table[alg];
  return { algorithm: alg, sign: (d) => new Uint8Array(sign(Buffer.from(d))), verify: (d, s) => verify(Buffer.from(d), Buffer.from(s)) };
}

const descriptor = (r) => ({ kind: 'request', method: r.method, targetUri: r.targetUri, fields: r.fields.map(([name, value]) => ({ name, value })) });

async function run(task) {
  const p = primitives(task.alg, task.jwk);
  if (task.op === 'sign') {
    const fields = await createSignature(descriptor(task.request), { label: task.label, components: task.components, parameters: task.params, signer: p });
    return { signatureInput: fields.signatureInput, signature: fields.signature };
  }
  const verified = await verifySignature(descriptor(task.request), {
    label: task.label,
    policy: { algorithms: [task.alg], requiredComponents: task.components, requiredParameters: ['created', 'keyid'], maxAge: 300, clockSkew: 60, now: task.now },
    resolveVerifier: (candidate) => {
      if (candidate.parameters.keyid !== task.jwk.kid) throw new Error('unknown keyid');
      return p;
    },
  });
  return { label: verified.label, keyid: verified.parameters.keyid };
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const task of JSON.parse(input)) {
  try {
    results.push(await run(task));
  } catch (e) {
    results.push({ error: `${e && e.code ? e.code + ': ' : ''}${e && e.message || e}` });
  }
}
process.stdout.write(JSON.stringify(results));
