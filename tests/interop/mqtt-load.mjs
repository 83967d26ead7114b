// Load client for bench/mqtt.sh (never run by `make test`): one JSON task on stdin; holds N mTLS
// MQTT 3.1.1 connections that all subscribe to config/down/# (as edges do), times how long the
// connections take, then how long one retained configuration published by `admin` takes to reach
// every edge, then lets the first P connections publish a pre-signed QoS 1 message in a loop (one
// in flight each) for S seconds and counts successful PUBACKs (and its own CPU time over that
// phase). Prints one JSON line per phase.
import * as fs from 'node:fs';
import mqtt from 'mqtt';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const t = JSON.parse(input);
const tls = (cert, key) => ({ ca: fs.readFileSync(t.ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key), rejectUnauthorized: true });
const edgeTls = tls(t.cert, t.key);
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const waiting = new Set();
let fanoutDone;
const fanout = new Promise((r) => { fanoutDone = r; });

function connect(i) {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(t.url, { ...edgeTls, clientId: `${t.prefix}-${i}`, protocolVersion: 4, clean: true, reconnectPeriod: 0, connectTimeout: 60000, keepalive: 600 });
    c.once('connect', () => c.subscribe('config/down/#', { qos: 1 }, (err) => (err ? reject(err) : resolve(c))));
    c.once('error', reject);
    c.on('message', (topic, payload) => {
      if (topic === 'config/down/bench' && payload.toString() === t.config && waiting.delete(i) && waiting.size === 0) fanoutDone();
    });
  });
}

const clients = new Array(t.edges);
let next = 0;
const start = performance.now();
await Promise.all(Array.from({ length: t.concurrency }, async () => {
  while (next < t.edges) {
    const i = next++;
    clients[i] = await connect(i);
  }
}));
say({ phase: 'connect', edges: t.edges, ms: Math.round(performance.now() - start) });
// With a pause file: write it and wait until it is removed (the bench reads the broker's figures then).
async function pause(what) {
  if (!t.pauseFile) return;
  fs.writeFileSync(t.pauseFile, what);
  while (fs.existsSync(t.pauseFile)) await new Promise((r) => setTimeout(r, 100));
}
await pause('connected');

for (let i = 0; i < t.edges; i++) waiting.add(i);
const admin = mqtt.connect(t.url, { ...tls(t.adminCert, t.adminKey), clientId: t.adminId, protocolVersion: 4, clean: true, reconnectPeriod: 0 });
await new Promise((r) => admin.once('connect', r));
const fanStart = performance.now();
admin.publish('config/down/bench', t.config, { qos: 1, retain: true });
const fanTimeout = new Promise((r) => setTimeout(() => r('timeout'), 60000));
const fanResult = await Promise.race([fanout.then(() => 'ok'), fanTimeout]);
say({ phase: 'fanout', ms: Math.round(performance.now() - fanStart), missing: waiting.size, result: fanResult });
await pause('fanout');

let acked = 0;
let refused = 0;
const until = performance.now() + t.seconds * 1000;
const pubStart = performance.now();
const cpuStart = process.cpuUsage();
await Promise.all(clients.slice(0, t.publishers).map((c) => new Promise((resolve) => {
  const one = () => {
    if (performance.now() >= until) return resolve();
    c.publish(t.topic, t.message, { qos: 1 }, (err) => { if (err) refused++; else acked++; one(); });
  };
  one();
})));
const seconds = (performance.now() - pubStart) / 1000;
const cpu = process.cpuUsage(cpuStart);
say({ phase: 'publish', publishers: t.publishers, acked, refused, seconds: +seconds.toFixed(2), per_second: Math.round(acked / seconds), client_cpu_us: cpu.user + cpu.system });
admin.end(true);
await Promise.all(clients.map((c) => new Promise((r) => c.end(true, {}, r))));
process.exit(0);
