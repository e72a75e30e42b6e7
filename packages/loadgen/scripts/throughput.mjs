// Loadgen hot-path cost: CPU of the loadgen process per message against a plain ws echo
// server running in a child process (so the server's CPU is not counted).
//
//   npx turbo run build --filter=@tidewatch/loadgen
//   node packages/loadgen/scripts/throughput.mjs [connections=500] [messagesPerSecondEach=40]
//
// Prints one JSON line: messages per second each way, loadgen CPU in cores, µs per message
// (sent + received), RTT p50/p99. Bounded: 12 s, loopback only.
import { fork } from 'node:child_process';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { createLoadGenerator } from '../dist/index.js';

if (process.argv[2] === '--server') {
  const server = http.createServer();
  const wss = new WebSocketServer({ server, path: '/ws', perMessageDeflate: false });
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(d)));
  server.listen(0, '127.0.0.1', () => process.send?.(server.address().port));
  process.on('disconnect', () => process.exit(0));
} else {
  const conns = Number(process.argv[2] ?? 500);
  const each = Number(process.argv[3] ?? 40);
  const child = fork(new URL(import.meta.url), ['--server']);
  const port = await new Promise((resolve) => child.once('message', resolve));
  const gen = createLoadGenerator({
    url: `ws://127.0.0.1:${port}/ws`,
    arrivals: { rate: 1000 },
    session: { meanSeconds: 1e6, messagesPerSecond: each, messageBytes: 128 },
    limits: { maxConcurrent: conns, durationSeconds: 12 },
    seed: 1,
  });
  await gen.start();
  await sleep(2000); // all connections open, steady state
  const c0 = process.cpuUsage();
  const r0 = gen.report();
  const t0 = performance.now();
  await sleep(8000);
  const cpu = process.cpuUsage(c0);
  const r1 = gen.report();
  const dt = (performance.now() - t0) / 1000;
  const sent = (r1.messages.sent - r0.messages.sent) / dt;
  const received = (r1.messages.received - r0.messages.received) / dt;
  const cores = (cpu.user + cpu.system) / 1e6 / dt;
  await gen.stop();
  child.disconnect();
  console.log(
    JSON.stringify({
      connections: r1.connections.open,
      sentPerSecond: Math.round(sent),
      receivedPerSecond: Math.round(received),
      loadgenCpuCores: Number(cores.toFixed(3)),
      usPerMessage: Number(((cores * 1e6) / (sent + received)).toFixed(1)),
      rttP50Ms: r1.rtt.p50Ms,
      rttP99Ms: r1.rtt.p99Ms,
    }),
  );
}
