// Load-generator core shared by bench/ws-echo/client.mjs and bench/sio-echo/client.mjs. Each
// of those only supplies a transport (how to open a connection, send one message, listen for
// echoes, close); everything measured is done here, identically for both benchmarks.
//
// --mode=load (default): C connections x K messages in flight (closed loop: every echo
//   triggers the next send), warm-up W s, then a D s measure window. Reports echoes/s and RTT
//   percentiles, then stops sending, waits for every outstanding echo and closes.
// --mode=idle: opens --prime connections, then on request --connections more, and holds them
//   open without traffic (memory-per-connection phase; needs the IPC driver).
//
// IPC protocol: see runRound()/runMemory() in driver.mjs.
import { performance } from 'node:perf_hooks';
import { num, parseArgs, percentile } from './util.mjs';

/**
 * @typedef {object} Transport
 * @property {string} urlHelp                         e.g. 'ws://127.0.0.1:PORT/ws'
 * @property {(url: string, i: number) => Promise<any>} open   resolves once usable (≤10 s)
 * @property {(conns: any[], graceMs: number) => Promise<void>} closeAll
 * @property {(size: number) => any} payload          the message every send uses
 * @property {(conn: any, payload: any) => void} send
 * @property {(conn: any, fn: (data: any) => void) => void} onEcho
 * @property {(data: any, size: number) => boolean} echoOk
 * @property {(conn: any, fn: (reason: string) => void) => void} [onDrop]  unexpected close
 */

/** @param {Transport} t */
export function runClient(t) {
  const args = parseArgs(process.argv.slice(2));
  const ipc = typeof process.send === 'function';
  const url = args.url;
  const mode = args.mode ?? 'load';
  const connections = num(args, 'connections', 200, { min: 1, integer: true });
  const inflight = num(args, 'inflight', 10, { min: 1, integer: true });
  const size = num(args, 'size', 64, { min: 0, integer: true });
  const warmup = num(args, 'warmup', 1.5);
  const duration = num(args, 'duration', 5, { min: 0.1 });
  const prime = num(args, 'prime', 50, { integer: true });
  // Enough parallel handshakes to open quickly, few enough not to overflow the accept queue.
  const connectConcurrency = num(args, 'connect-concurrency', 64, { min: 1, integer: true });

  if (typeof url !== 'string') {
    console.error(`client: --url ${t.urlHelp} is required`);
    process.exit(2);
  }

  function emit(msg) {
    if (ipc) process.send(msg);
  }

  // Hard bound on the whole process: whatever goes wrong (server wedged, IPC lost), the
  // client cannot outlive its configured run by more than this margin.
  const hardLimitMs =
    mode === 'load' ? (warmup + duration + 30) * 1000 : num(args, 'max-seconds', 120) * 1000;
  setTimeout(() => {
    console.error(`client: hard time limit (${hardLimitMs} ms) reached, exiting`);
    process.exit(3);
  }, hardLimitMs).unref();
  if (ipc) process.on('disconnect', () => process.exit(0));

  async function openAll(n, onEach) {
    const conns = new Array(n);
    let next = 0;
    const worker = async () => {
      while (next < n) {
        const i = next++;
        conns[i] = await t.open(url, i);
        onEach?.(conns[i], i);
      }
    };
    await Promise.all(Array.from({ length: Math.min(connectConcurrency, n) }, worker));
    return conns;
  }

  async function runLoad() {
    const payload = t.payload(size);
    const { send, echoOk } = t;
    // RTT samples in ns, only for echoes that land inside the measure window. Preallocated
    // and grown by doubling so the hot path never allocates per message beyond the hrtime
    // BigInt.
    let samples = new Float64Array(1 << 20);
    let nSamples = 0;
    let measuring = false;
    let stopping = false;
    let windowEchoes = 0;
    let totalSent = 0;
    let totalReceived = 0;
    let badEchoes = 0;
    let inFlightTotal = 0;
    let drops = 0;
    let onDrained = null;

    const states = [];
    const sendOne = (st) => {
      // Echoes come back in order on a connection, so a ring of send times per connection
      // pairs each echo with its send without putting a sequence number in the payload.
      st.ring[st.head] = process.hrtime.bigint();
      st.head = st.head + 1 === inflight ? 0 : st.head + 1;
      send(st.conn, payload);
      totalSent++;
      inFlightTotal++;
    };

    const conns = await openAll(connections, (conn) => {
      const st = { conn, ring: new BigInt64Array(inflight), head: 0, tail: 0 };
      states.push(st);
      t.onEcho(conn, (data) => {
        const now = process.hrtime.bigint();
        const sentAt = st.ring[st.tail];
        st.tail = st.tail + 1 === inflight ? 0 : st.tail + 1;
        totalReceived++;
        inFlightTotal--;
        if (!echoOk(data, size)) badEchoes++;
        if (measuring) {
          windowEchoes++;
          if (nSamples === samples.length) {
            const bigger = new Float64Array(samples.length * 2);
            bigger.set(samples);
            samples = bigger;
          }
          samples[nSamples++] = Number(now - sentAt);
        }
        if (!stopping) sendOne(st);
        else if (inFlightTotal === 0 && onDrained) onDrained();
      });
      t.onDrop?.(conn, (reason) => {
        if (stopping) return;
        drops++;
        console.error(`client connection dropped mid-run: ${reason}`);
      });
    });
    emit({ type: 'connected', connections: conns.length });

    for (const st of states) for (let k = 0; k < inflight; k++) sendOne(st);

    await new Promise((resolve) => setTimeout(resolve, warmup * 1000));
    const cpu0 = process.cpuUsage();
    const elu0 = performance.eventLoopUtilization();
    const t0 = process.hrtime.bigint();
    measuring = true;
    emit({ type: 'measure-start' });

    await new Promise((resolve) => setTimeout(resolve, duration * 1000));
    measuring = false;
    const elapsedNs = Number(process.hrtime.bigint() - t0);
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    emit({ type: 'measure-stop' });

    // Drain: stop issuing, wait for every outstanding echo, so the server's message count
    // and its scraped metrics can be compared exactly (nothing lost in a closing socket).
    stopping = true;
    const drained = await new Promise((resolve) => {
      if (inFlightTotal === 0) return resolve(true);
      const timer = setTimeout(() => resolve(false), 5000);
      onDrained = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });

    const rtts = samples.subarray(0, nSamples).sort();
    const result = {
      connections: conns.length,
      inflight,
      size,
      elapsedMs: elapsedNs / 1e6,
      echoes: windowEchoes,
      msgsPerSec: windowEchoes / (elapsedNs / 1e9),
      rttMs: {
        p50: percentile(rtts, 50) / 1e6,
        p90: percentile(rtts, 90) / 1e6,
        p99: percentile(rtts, 99) / 1e6,
        max: nSamples ? rtts[nSamples - 1] / 1e6 : Number.NaN,
        mean: nSamples ? rtts.reduce((a, b) => a + b, 0) / nSamples / 1e6 : Number.NaN,
      },
      clientCpuPct: ((cpu.user + cpu.system) / (elapsedNs / 1e3)) * 100,
      clientElu: elu.utilization,
      totalSent,
      totalReceived,
      drained: drained && drops === 0,
      badEchoes,
      drops,
    };
    await t.closeAll(conns, 2000);
    return result;
  }

  async function runIdle() {
    if (!ipc) throw new Error('--mode=idle is driven over IPC by run.mjs');
    const held = [];
    // A few connections first: the driver takes its "before" heap snapshot with these open,
    // so one-time costs (lazy compilation, first-connection allocations in each stack) are
    // not divided into the per-connection figure.
    held.push(...(await openAll(prime)));
    emit({ type: 'primed', connections: held.length });
    await new Promise((resolve) => {
      process.on('message', function onMsg(msg) {
        if (msg.cmd === 'more') {
          process.off('message', onMsg);
          resolve();
        }
      });
    });
    held.push(...(await openAll(connections)));
    emit({ type: 'connected', connections: held.length });
    await new Promise((resolve) => {
      process.on('message', (msg) => {
        if (msg.cmd === 'close') resolve();
      });
    });
    await t.closeAll(held, 3000);
    return { connections: held.length };
  }

  (mode === 'idle' ? runIdle() : runLoad()).then(
    (result) => {
      if (ipc) {
        process.send({ type: 'result', result }, () => process.exit(0));
      } else {
        console.log(JSON.stringify(result, null, 2));
        process.exit(0);
      }
    },
    (err) => {
      console.error(`client (${mode}) failed:`, err?.stack ?? err);
      emit({ type: 'fatal', message: `client failed: ${err?.message ?? err}` });
      setTimeout(() => process.exit(1), 50);
    },
  );
}
