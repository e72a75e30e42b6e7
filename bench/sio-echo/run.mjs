// Driver of the sio-echo benchmark: Socket.IO 4 echo server uninstrumented, with tidewatch,
// and with the socket.io-prometheus plugin, in interleaved rounds, then the memory phase.
// The machinery is shared with ws-echo (bench/common/driver.mjs); this file only says what
// sio-echo is. `node bench/sio-echo/run.mjs --help` lists the flags; README.md explains it.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fix, runBenchmark } from '../common/driver.mjs';
import { median, TIDEWATCH_MISSING, VARIANTS } from './common.mjs';

const DOC_HEADER = `# Benchmarks

Side-by-side benchmarks of instrumented realtime servers; method and variants in
[bench/sio-echo/README.md](../bench/sio-echo/README.md). Reproduce with \`npm run bench\`.
`;

/** Target from issue 3, checked and stated (never adjusted) in the generated section. */
const TARGET_RATIO = 0.98;

/**
 * The issue 3 target, stated two ways: over all rounds (the table's paired medians) and over
 * the "clean" rounds only, where neither the variant's nor that round's baseline measure
 * window had other processes above the quiet threshold. A baseline round slowed by a build
 * in another terminal inflates every paired ratio of its round, so the clean figure is the
 * one to trust when they disagree. Both are printed whatever they say.
 */
function targetNotes(summary, { runs, quietPct }) {
  const by = Object.fromEntries(summary.map((s) => [s.variant, s]));
  const tw = by.tidewatch;
  const plugin = by['socket.io-prometheus'];
  if (!tw || !by.baseline || !Number.isFinite(tw.ratio.median)) {
    return ['tidewatch was not part of this run, so the issue 3 target was not checked.'];
  }
  const base = (round) => runs.find((r) => r.variant === 'baseline' && r.round === round);
  const cleanPairs = (v) =>
    runs
      .filter((r) => r.variant === v)
      .map((r) => [r, base(r.round)])
      .filter(([r, b]) => b && r.foreignCpuPct < quietPct && b.foreignCpuPct < quietPct);
  const clean = (v) => {
    const pairs = cleanPairs(v);
    return {
      n: pairs.length,
      ratio: median(pairs.map(([r, b]) => r.msgsPerSec / b.msgsPerSec)),
      cpuDelta: median(pairs.map(([r, b]) => r.cpuUsPerMsg - b.cpuUsPerMsg)),
    };
  };
  const verdict = (ok) => (ok ? 'met' : 'not met');
  const twClean = clean('tidewatch');
  const notes = [];
  let all =
    `Target (issue 3): tidewatch ≥ ${TARGET_RATIO.toFixed(2)}x of baseline throughput and ahead ` +
    `of socket.io-prometheus. Over all ${tw.rounds} rounds: ${fix(tw.ratio.median, 2)}x ` +
    `(paired median, range ${fix(tw.ratio.range[0], 2)}–${fix(tw.ratio.range[1], 2)}), ` +
    `${verdict(tw.ratio.median >= TARGET_RATIO)}`;
  if (plugin && Number.isFinite(plugin.ratio.median)) {
    all +=
      `; socket.io-prometheus ${fix(plugin.ratio.median, 2)}x, so tidewatch is ` +
      `${tw.ratio.median > plugin.ratio.median ? 'ahead' : 'not ahead'}`;
  }
  all += '.';
  if (twClean.n > 0) {
    all +=
      ` Over the rounds where neither tidewatch nor that round's baseline had other ` +
      `processes above ${quietPct}% of a core (${twClean.n} of ${tw.rounds}): ` +
      `${fix(twClean.ratio, 2)}x, ${verdict(twClean.ratio >= TARGET_RATIO)}`;
    const pClean = plugin ? clean('socket.io-prometheus') : { n: 0 };
    if (pClean.n > 0) {
      all +=
        `; socket.io-prometheus ${fix(pClean.ratio, 2)}x over its ${pClean.n} clean rounds, ` +
        `so tidewatch is ${twClean.ratio > pClean.ratio ? 'ahead' : 'not ahead'}`;
    }
    all += '.';
  } else {
    all += ' No round of tidewatch and its baseline was free of other processes.';
  }
  notes.push(all);
  if (plugin && Number.isFinite(plugin.cpuDeltaUsPerMsg)) {
    notes.push(
      `Server CPU per message, which does not depend on how hard the client pushed: ` +
        `tidewatch ${signedFix(tw.cpuDeltaUsPerMsg)} µs/msg vs baseline (user CPU ` +
        `${signedFix(tw.userDeltaUsPerMsg)}), socket.io-prometheus ` +
        `${signedFix(plugin.cpuDeltaUsPerMsg)} µs/msg (user ${signedFix(plugin.userDeltaUsPerMsg)}).`,
    );
  }
  if (by.baseline.clientCpuPct >= 90) {
    notes.push(
      `The socket.io-client load generator is at ${fix(by.baseline.clientCpuPct, 0)}% of its ` +
        `core in baseline, so msgs/s is mostly client-bound and round-to-round noise ` +
        `(see the min–max columns) is far larger than a 2% difference: the throughput ratios ` +
        `cannot resolve the ≥ ${TARGET_RATIO.toFixed(2)}x target either way; the CPU µs/msg ` +
        `deltas are the measure of what each instrumentation adds.`,
    );
  }
  return notes;
}

const signedFix = (x) =>
  Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}` : '—';

runBenchmark({
  name: 'sio-echo',
  dir: path.dirname(fileURLToPath(import.meta.url)),
  variants: VARIANTS,
  baseline: 'baseline',
  url: (port) => `http://127.0.0.1:${port}`,
  tidewatch: {
    variant: 'tidewatch',
    files: ['socket.io.js'],
    check: (mods) =>
      typeof mods['socket.io.js'].instrumentSocketIo === 'function' ? null : TIDEWATCH_MISSING,
  },
  // [label, where it is installed (relative to the repo root), package]. Two prom-clients:
  // the root 15.x that tidewatch uses and the 14.x under bench/ that the plugin requires.
  packages: [
    ['socket.io', '.', 'socket.io'],
    ['socket.io-client', '.', 'socket.io-client'],
    ['prom-client', '.', 'prom-client'],
    ['@tidewatch/middleware', '.', '@tidewatch/middleware'],
    ['socket.io-prometheus', 'bench', 'socket.io-prometheus'],
    ['with prom-client', 'bench', 'prom-client'],
  ],
  payload: (cfg) =>
    `${cfg.size}-char string events (\`emit('echo', s)\` echoed by an ack-less \`emit\`), WebSocket transport only`,
  sizeHelp: 'payload string length in characters',
  docHeader: DOC_HEADER,
  extraNotes: targetNotes,
}).catch((err) => {
  console.error(err?.stack ?? err);
  process.exit(1);
});
