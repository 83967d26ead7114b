// Interop peer on npm `mqtt` (MQTT.js 5) and `jose`: reads one JSON task on stdin, connects over
// TLS with a client certificate, runs its steps and prints what the broker answered, as the packets
// arrived: {connack, acks: [{cmd, codes}], messages: [{topic, payload}], closed, error?}.
// Task: {url, ca, cert, key, clientId, protocolVersion (4 or 5), clean, sessionExpiry?, steps: [
//   {op: "subscribe", filter, qos} | {op: "publish", topic, qos, retain, payload? | payload_b64u? |
//   sign: {jwk, payload, serialization, header?}} | {op: "wait", ms}]}.
// sign.header replaces the protected header (to forge kid or alg); the signature is still jose's.
import * as fs from 'node:fs';
import mqtt from 'mqtt';
import * as jose from 'jose';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const task = JSON.parse(input);
const out = { connack: null, acks: [], messages: [], closed: false };

async function signed(s) {
  const key = await jose.importJWK(s.jwk, s.jwk.alg);
  const header = s.header ?? { alg: s.jwk.alg, kid: s.jwk.kid };
  const payload = new TextEncoder().encode(s.payload);
  if (s.serialization === 'compact') return new jose.CompactSign(payload).setProtectedHeader(header).sign(key);
  if (s.serialization === 'general') {
    const g = new jose.GeneralSign(payload);
    g.addSignature(key).setProtectedHeader(header);
    return JSON.stringify(await g.sign());
  }
  return JSON.stringify(await new jose.FlattenedSign(payload).setProtectedHeader(header).sign(key));
}

const client = mqtt.connect(task.url, {
  ca: fs.readFileSync(task.ca), cert: fs.readFileSync(task.cert), key: fs.readFileSync(task.key),
  clientId: task.clientId, protocolVersion: task.protocolVersion, clean: task.clean ?? true,
  reconnectPeriod: 0, connectTimeout: 5000, rejectUnauthorized: true,
  properties: task.protocolVersion === 5 && task.sessionExpiry ? { sessionExpiryInterval: task.sessionExpiry } : undefined,
});
client.on('packetreceive', (p) => {
  if (p.cmd === 'connack') out.connack = p.reasonCode ?? p.returnCode ?? 0;
  if (p.cmd === 'suback') out.acks.push({ cmd: 'suback', codes: p.granted });
  if (p.cmd === 'puback') out.acks.push({ cmd: 'puback', codes: [p.reasonCode ?? 0] });
  if (p.cmd === 'publish') out.messages.push({ topic: p.topic, payload: p.payload.toString() });
});
client.on('error', (e) => { out.error = String(e.message); });
client.on('close', () => { out.closed = true; });

const connected = await new Promise((resolve) => {
  client.once('connect', () => resolve(true));
  client.once('close', () => resolve(false));
});
const done = (cb) => (err) => cb(err);
if (connected) {
  for (const step of task.steps ?? []) {
    if (client.disconnected || out.closed) break;
    if (step.op === 'subscribe') {
      await new Promise((r) => client.subscribe(step.filter, { qos: step.qos ?? 0 }, done(r)));
    } else if (step.op === 'publish') {
      const payload = step.sign ? await signed(step.sign) : step.payload_b64u ? Buffer.from(step.payload_b64u, 'base64url') : step.payload ?? '';
      await new Promise((r) => client.publish(step.topic, payload, { qos: step.qos ?? 1, retain: !!step.retain }, done(r)));
    } else if (step.op === 'wait') {
      await new Promise((r) => setTimeout(r, step.ms));
    }
  }
  await new Promise((r) => client.end(false, {}, r));
}
process.stdout.write(JSON.stringify(out));
