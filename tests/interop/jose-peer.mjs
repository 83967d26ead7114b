// Interop peer on npm `jose` 5.x (panva): reads a JSON array of tasks on stdin and prints one
// result per task. sign: {op, jwk, payload_b64u, serialization, extra_jwk?} -> {jws};
// verify: {op, jwks, jws} -> {payload_b64u} after checking every signature against the key
// whose kid it names; any failure -> {error}.
import * as jose from 'jose';

const b64u = (bytes) => Buffer.from(bytes).toString('base64url');
const key = (jwk) => jose.importJWK(jwk, jwk.alg);

async function sign(task) {
  const payload = Buffer.from(task.payload_b64u, 'base64url');
  const header = (jwk) => ({ alg: jwk.alg, kid: jwk.kid });
  if (task.serialization === 'compact') {
    return { jws: await new jose.CompactSign(payload).setProtectedHeader(header(task.jwk)).sign(await key(task.jwk)) };
  }
  if (task.serialization === 'flattened') {
    return { jws: JSON.stringify(await new jose.FlattenedSign(payload).setProtectedHeader(header(task.jwk)).sign(await key(task.jwk))) };
  }
  const general = new jose.GeneralSign(payload);
  for (const jwk of [task.jwk, ...(task.extra_jwk ? [task.extra_jwk] : [])]) {
    general.addSignature(await key(jwk)).setProtectedHeader(header(jwk));
  }
  return { jws: JSON.stringify(await general.sign()) };
}

async function verifyOne(jwks, flattened) {
  const protectedHeader = JSON.parse(Buffer.from(flattened.protected, 'base64url').toString());
  const jwk = jwks.keys.find((k) => k.kid === protectedHeader.kid);
  if (!jwk) throw new Error(`no key ${protectedHeader.kid}`);
  const result = await jose.flattenedVerify(flattened, await key(jwk), { algorithms: [jwk.alg] });
  return b64u(result.payload);
}

async function verify(task) {
  const text = task.jws.trim();
  if (!text.startsWith('{')) {
    const [p, payload, s] = text.split('.');
    return { payload_b64u: await verifyOne(task.jwks, { protected: p, payload, signature: s }) };
  }
  const json = JSON.parse(text);
  const signatures = json.signatures ?? [json];
  let payload;
  for (const sig of signatures) {
    payload = await verifyOne(task.jwks, { protected: sig.protected, payload: json.payload, signature: sig.signature });
  }
  return { payload_b64u: payload };
}

let input = '';
for await (const chunk of process.stdin) input += chunk;
const results = [];
for (const task of JSON.parse(input)) {
  try {
    results.push(task.op === 'sign' ? await sign(task) : await verify(task));
  } catch (e) {
    results.push({ error: String(e && e.message || e) });
  }
}
process.stdout.write(JSON.stringify(results));
