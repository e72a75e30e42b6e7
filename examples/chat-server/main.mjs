// The one-command demo (`npm start`): the instrumented chat server, the load generator replaying
// the flights trace's daily/weekly shape at one trace minute per second, and the predictor
// sidecar in embedded mode (same process) with its history seeded from the weeks of trace
// before the replay. Prints the URLs, then a progress line every 10 s; Ctrl-C stops it all.
//
//   node examples/chat-server/main.mjs [--port 0] [--sidecar-port 0] [--duration S] [--quiet]
//                                      [--scale 1] [--data-dir DIR]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createLoadGenerator, loadTrace } from '@tidewatch/loadgen';
import { createJsonLogger, createSidecar, parseServeConfig } from '@tidewatch/predictor';
import { DAY_STEPS, WEEK_STEPS, writeSeed } from './plan.mjs';
import { createChatServer } from './server.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TRACE = path.join(HERE, '../../packages/predictor/fixtures/flights-2001-minutely.csv');
/** Monday 22 January 2001, 05:30: the replay starts just before the morning ramp. */
const START_AT = 21 * DAY_STEPS + 5 * 60 + 30;
/** Three weeks of trace minutes seeded, one point per second: two weekly seasons plus the backtest origins. */
const SEED_STEPS = 3 * WEEK_STEPS;
/** The load generator's own bound when no --duration is given: a day of demo time. */
const MAX_DURATION_SECONDS = 86_400;
const ROOMS = Array.from({ length: 16 }, (_, i) => `room-${i}`);

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '0' },
    'sidecar-port': { type: 'string', default: process.env.SIDECAR_PORT ?? '0' },
    duration: { type: 'string', default: '0' },
    scale: { type: 'string', default: '1' },
    'data-dir': { type: 'string' },
    quiet: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  console.log(`Usage: node examples/chat-server/main.mjs [flags]
  --port N           chat server port (default $PORT or 0 = any free port)
  --sidecar-port N   sidecar port (default $SIDECAR_PORT or 0)
  --duration S       stop after S seconds (default: run until Ctrl-C; the load itself stops after 24 h)
  --scale X          connection arrivals per trace departure (default 1: ~300-1,500 connections)
  --data-dir DIR     keep the sidecar's history and model here (default: a temp dir removed at exit)
  --quiet            print the URLs only, no progress lines`);
  process.exit(0);
}
const num = (name, min, max) => {
  const v = Number(args[name]);
  if (!Number.isFinite(v) || v < min || v > max) {
    console.error(`--${name} must be a number in [${min}, ${max}], got ${args[name]}`);
    process.exit(1);
  }
  return v;
};
const port = num('port', 0, 65_535);
const sidecarPort = num('sidecar-port', 0, 65_535);
const duration = num('duration', 0, MAX_DURATION_SECONDS);
const scale = num('scale', 0.01, 20);

const session = { meanSeconds: 40, messagesPerSecond: 0.05, messageBytes: 96 };
const token = randomBytes(9).toString('base64url');
const tempDir = args['data-dir'] ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'tidewatch-demo-'));
const dataDir = args['data-dir'] ?? tempDir;
fs.mkdirSync(dataDir, { recursive: true });

const stoppers = [];
let stopping = null;

/** A mistake the user fixes with a flag: printed as its one line, without a stack. */
class UsageError extends Error {}

/**
 * Listens, turning "port taken" and "port not allowed" into the flag (and variable) to change.
 * @param {() => Promise<number>} listen - Resolves with the bound port.
 * @param {number} requested - The port asked for (0 never fails this way).
 * @param {string} flag - `--port` or `--sidecar-port`.
 * @param {string} env - The variable the flag defaults from.
 */
async function listenOr(listen, requested, flag, env) {
  try {
    return await listen();
  } catch (err) {
    const why = { EADDRINUSE: 'is in use', EACCES: 'needs privileges' }[err?.code];
    if (!why) throw err;
    throw new UsageError(
      `port ${requested} ${why}: pass another ${flag} (or set ${env}), or ${flag} 0 for any free port`,
    );
  }
}

async function main() {
  if (!fs.existsSync(TRACE)) throw new Error(`the flights trace is missing: ${TRACE}`);

  // The chat server first: its URLs are printed while the trace is parsed and the sidecar
  // backtests (seconds on a busy machine), and a taken --port fails before that work.
  const chat = createChatServer({ token, heartbeatMs: 15_000 });
  const chatPort = await listenOr(() => chat.listen(port, '127.0.0.1'), port, '--port', 'PORT');
  stoppers.push(() => chat.close());
  const base = `http://127.0.0.1:${chatPort}`;
  console.log(
    `chat server   ${base}/?token=${token}   (ws: ws://127.0.0.1:${chatPort}/ws?token=${token}, sse: ${base}/sse?room=room-0&token=${token})`,
  );
  console.log(`metrics       ${base}/metrics`);

  const trace = loadTrace(TRACE);

  const seedFile = writeSeed(dataDir, trace.values, START_AT, {
    seedSteps: SEED_STEPS,
    scale,
    meanSeconds: session.meanSeconds,
  });
  const config = parseServeConfig({
    listen: { host: '127.0.0.1', port: sidecarPort },
    // The WebSocket connections: the load the seed models (the SSE followers are extra).
    source: {
      kind: 'scrape',
      urls: [`${base}/metrics`],
      timeoutSeconds: 2,
      labels: { transport: 'websocket' },
    },
    metric: 'realtime_connections',
    target: 'chat-server',
    stepSeconds: 1,
    historyPoints: SEED_STEPS + DAY_STEPS,
    dataDir,
    schedule: { collect: '* * * * * *', forecast: '*/5 * * * * *', retrain: '0 */15 * * * *' },
    forecast: {
      horizonSteps: 60,
      // The neural model is left out: training it next to the load and a browser would take
      // the demo's two cores for minutes. `bench/forecast` measures it.
      models: ['holt-winters', 'seasonal-profile', 'ensemble:holt-winters+seasonal-profile'],
      origins: 5,
      timeBudgetSeconds: 30,
      season: { daySteps: DAY_STEPS, weekSteps: WEEK_STEPS },
    },
    planner: {
      capacityPerReplica: 250,
      targetUtilization: 0.7,
      minReplicas: 1,
      maxReplicas: 20,
      // Demo time: one second is one trace minute, so a 30 s lead is half an hour of trace.
      lead: { podStartSeconds: 15, readinessSeconds: 5, metricLagSeconds: 5, pollingSeconds: 5 },
    },
    staleness: { maxDataAgeSeconds: 30, maxForecastAgeSeconds: 60 },
    seed: { file: seedFile, retime: true },
    historyMinutes: 60,
    live: { windowSeconds: 10 },
  });
  const logFile = path.join(dataDir, 'sidecar.log');
  const logStream = fs.createWriteStream(logFile, { flags: 'a' });
  const sidecar = createSidecar(config, { log: createJsonLogger(logStream, 'info') });
  const { url: sidecarUrl } = await listenOr(
    () => sidecar.start(),
    sidecarPort,
    '--sidecar-port',
    'SIDECAR_PORT',
  );
  stoppers.push(async () => {
    await sidecar.stop();
    await new Promise((r) => logStream.end(r));
  });

  const limits = {
    maxConcurrent: 5000,
    maxConnections: 10_000_000,
    durationSeconds: duration > 0 ? duration : MAX_DURATION_SECONDS,
  };
  const wsLoad = createLoadGenerator({
    url: `ws://127.0.0.1:${chatPort}/ws`,
    transport: 'ws',
    token,
    headers: { 'x-client': 'loadgen' },
    arrivals: {
      trace: { values: trace.values, stepSeconds: 60 },
      compression: 60,
      scale,
      startAt: START_AT,
    },
    session: { ...session, rooms: ROOMS, joinRooms: 1, heartbeatSeconds: 0 },
    reconnect: { baseMs: 500, maxMs: 15_000, maxAttempts: 5 },
    limits,
    dropRatio: 0.02,
    seed: 1,
  });
  // A handful of SSE followers of the lobby: the feed is part of the server's shape.
  const sseLoad = createLoadGenerator({
    url: `${base}/sse?room=room-0`,
    transport: 'sse',
    token,
    headers: { 'x-client': 'loadgen' },
    arrivals: { rate: 0.5 },
    session: { meanSeconds: 30, messagesPerSecond: 0, messageBytes: 64, heartbeatSeconds: 0 },
    reconnect: { baseMs: 500, maxMs: 15_000, maxAttempts: 5 },
    limits: { ...limits, maxConcurrent: 50 },
    seed: 2,
  });
  stoppers.push(() => Promise.all([wsLoad.stop(), sseLoad.stop()]));
  await wsLoad.start();
  await sseLoad.start();

  console.log(
    `sidecar       ${sidecarUrl}/   (status page; ${sidecarUrl}/forecast, ${sidecarUrl}/metrics)`,
  );
  console.log(
    `load          flights trace from Mon 22 Jan 2001 05:30, one trace minute per second; sidecar log: ${logFile}`,
  );
  console.log(
    duration > 0
      ? `stopping after ${duration} s (Ctrl-C stops earlier)`
      : 'Ctrl-C stops everything',
  );

  if (!args.quiet) {
    const t0 = Date.now();
    const timer = setInterval(() => {
      progress(t0, wsLoad, sseLoad, sidecarUrl).catch(() => {});
    }, 10_000);
    timer.unref();
    stoppers.push(() => clearInterval(timer));
  }
  if (duration > 0) setTimeout(() => shutdown('duration reached'), duration * 1000).unref();
  // The load generator ends by its own bound: then the demo has nothing left to show.
  wsLoad.done.then(
    () => shutdown('load finished'),
    () => {},
  );
}

let lastMessages = 0;
let lastAt = Date.now();
async function progress(t0, wsLoad, sseLoad, sidecarUrl) {
  const r = wsLoad.report();
  const s = sseLoad.report();
  const now = Date.now();
  const received = r.messages.received + s.messages.received;
  const rate = ((received - lastMessages) / (now - lastAt)) * 1000;
  lastMessages = received;
  lastAt = now;
  let forecast = 'forecast pending';
  try {
    const res = await fetch(`${sidecarUrl}/forecast?history=1`, {
      signal: AbortSignal.timeout(2000),
    });
    const f = await res.json();
    forecast =
      f.plan.recommendedReplicas !== null
        ? `forecast ${f.status} (${f.model ?? 'no model'}): peak ${Math.round(f.plan.predictedPeak ?? 0)} in ${f.plan.leadTimeSeconds} s -> ${f.plan.recommendedReplicas} replicas`
        : `forecast ${f.status}${f.reasons.length ? ` (${f.reasons.join('; ')})` : ''}`;
  } catch {}
  console.log(
    `+${Math.round((now - t0) / 1000)}s  connections ${r.connections.open + s.connections.open} (ws ${r.connections.open}, sse ${s.connections.open})  messages received ${Math.round(rate)}/s  rtt p99 ${Math.round(r.rtt.p99Ms ?? 0)} ms  ${forecast}`,
  );
}

async function shutdown(why) {
  if (stopping !== null) return stopping;
  console.log(`stopping (${why})...`);
  stopping = (async () => {
    for (const stop of stoppers.reverse()) {
      try {
        await stop();
      } catch (err) {
        console.error(`while stopping: ${err?.message ?? err}`);
      }
    }
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    console.log('stopped');
    process.exit(0);
  })();
  return stopping;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    // A second Ctrl-C means "now".
    if (stopping !== null) process.exit(130);
    void shutdown(signal);
  });
}

main().catch(async (err) => {
  console.error(err instanceof UsageError ? err.message : `demo failed: ${err?.stack ?? err}`);
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  process.exit(1);
});
