// Client of the scale benchmarks, forked by connections.mjs / churn.mjs and driven over IPC.
//
//   open {n, concurrency}      opens n idle connections, at most `concurrency` handshakes
//                              pending at once; replies with the time it took
//   closeAll                   closes every open connection cleanly (1000) and waits for the
//                              server's close frames
//   churn {seconds, rate, …}   connections arrive at `rate`/s for `seconds`, each lives a random
//                              short time exchanging a few echoed messages, then closes cleanly
//                              or (dropRatio) is destroyed without a close frame
//
// Everything is bounded: `--max-seconds` kills the process whatever happens.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { serveIpc } from '../common/peer.mjs';
import { num, parseArgs } from '../common/util.mjs';

const args = parseArgs(process.argv.slice(2));
const url = args.url;
if (typeof url !== 'string') {
  console.error('client: --url ws://127.0.0.1:PORT/ws is required');
  process.exit(2);
}
setTimeout(
  () => {
    console.error('client: hard time limit reached, exiting');
    process.exit(3);
  },
  num(args, 'max-seconds', 900) * 1000,
).unref();

/** Opens one connection; resolves with the socket or rejects with the failure (10 s bound). */
function openOne() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: 10_000 });
    const onError = (err) => {
      ws.removeListener('open', onOpen);
      reject(err);
    };
    const onOpen = () => {
      ws.removeListener('error', onError);
      ws.on('error', () => {});
      resolve(ws);
    };
    ws.once('open', onOpen);
    ws.once('error', onError);
  });
}

const held = [];

async function open({ n, concurrency }) {
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  const failures = {};
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        held.push(await openOne());
      } catch (err) {
        failed++;
        const code = err.code ?? err.message;
        failures[code] = (failures[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  return { ms: performance.now() - t0, opened: held.length, failed, failures };
}

async function closeAll() {
  const t0 = performance.now();
  const conns = held.splice(0);
  await Promise.all(
    conns.map(
      (ws) =>
        new Promise((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', resolve);
          ws.close(1000);
        }),
    ),
  );
  return { closed: conns.length, ms: performance.now() - t0 };
}

async function churn({ seconds, rate, dropRatio, maxConcurrent, minLifeMs, maxLifeMs, messages }) {
  const c = {
    attempted: 0,
    opened: 0,
    failed: 0,
    skipped: 0,
    closedClean: 0,
    dropped: 0,
    sent: 0,
    received: 0,
    peakOpen: 0,
  };
  let open = 0;
  const payload = Buffer.alloc(64, 0x61);
  const endAt = performance.now() + seconds * 1000;
  const live = new Set();

  const session = async () => {
    c.attempted++;
    let ws;
    try {
      ws = await openOne();
    } catch {
      c.failed++;
      return;
    }
    c.opened++;
    open++;
    c.peakOpen = Math.max(c.peakOpen, open);
    const life = minLifeMs + Math.random() * (maxLifeMs - minLifeMs);
    const drop = Math.random() < dropRatio;
    // Messages spread over the life; each echo is counted, so in/out can be checked exactly
    // against the server once every session has ended (a dropped session may lose the echoes
    // still in flight when it is destroyed: that is exactly what the server counts too).
    ws.on('message', () => {
      c.received++;
    });
    const gap = life / (messages + 1);
    await new Promise((resolve) => {
      let k = 0;
      const tick = setInterval(() => {
        if (k++ < messages && ws.readyState === WebSocket.OPEN) {
          ws.send(payload);
          c.sent++;
        }
      }, gap);
      setTimeout(() => {
        clearInterval(tick);
        ws.once('close', resolve);
        if (drop) {
          c.dropped++;
          ws.terminate();
        } else {
          c.closedClean++;
          ws.close(1000);
        }
      }, life);
    });
    open--;
  };

  // Arrivals on a fixed schedule (not Poisson): the soak is about steady churn, and a fixed
  // schedule makes the count a pure function of rate × seconds.
  const intervalMs = 1000 / rate;
  let due = performance.now();
  while (performance.now() < endAt) {
    if (open >= maxConcurrent) c.skipped++;
    else {
      const p = session();
      live.add(p);
      void p.finally(() => live.delete(p));
    }
    due += intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await Promise.all(live);
  return c;
}

serveIpc({
  ready: { pid: process.pid },
  handlers: {
    open,
    closeAll,
    churn,
    exit: () => {
      for (const ws of held) ws.terminate();
      setTimeout(() => process.exit(0), 20);
      return { exiting: true };
    },
  },
});
