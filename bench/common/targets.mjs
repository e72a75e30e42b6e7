// The issue 16 targets of the MQTT and gRPC echo benchmarks, checked and stated (never
// adjusted) in their generated sections: tidewatch at ≥ 0.97x the uninstrumented throughput,
// ≤ +0.3 µs server CPU per message and under 400 B of heap per connection. An echo is one
// message in and one out per subscriber (`--fanout`, 1 without), so the per-message CPU figure
// is the per-echo delta divided by 1 + fanout.
import { fix } from './driver.mjs';

const TARGET_RATIO = 0.97;
const TARGET_CPU_US_PER_MSG = 0.3;
const TARGET_BYTES_PER_CONN = 400;

const verdict = (ok) => (ok ? 'met' : 'not met');
const signed = (x) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}` : '—');

/**
 * @param {string} issue - Named in the notes, e.g. `issue 16`.
 * @returns The `extraNotes` hook of a BenchSpec.
 */
export function targetNotes(issue) {
  return (summary, { cfg }) => {
    const perEcho = 1 + (cfg.extra?.fanout ?? 1);
    const by = Object.fromEntries(summary.map((s) => [s.variant, s]));
    const tw = by.tidewatch;
    if (!tw || !by.baseline || !Number.isFinite(tw.ratio.median)) {
      return [
        `tidewatch or the baseline was not part of this run, so the ${issue} targets were not checked.`,
      ];
    }
    const perMsg = tw.cpuDeltaUsPerMsg / perEcho;
    const notes = [
      `Targets (${issue}): throughput ≥ ${TARGET_RATIO}x of baseline: ${fix(tw.ratio.median, 2)}x ` +
        `(paired median, range ${fix(tw.ratio.range[0], 2)}–${fix(tw.ratio.range[1], 2)}), ` +
        `${verdict(tw.ratio.median >= TARGET_RATIO)}; server CPU ≤ +${TARGET_CPU_US_PER_MSG} µs per ` +
        `message: ${signed(perMsg)} µs (${signed(tw.cpuDeltaUsPerMsg)} µs per echo of ${perEcho} messages), ` +
        `${verdict(perMsg <= TARGET_CPU_US_PER_MSG)}.`,
    ];
    if (Number.isFinite(tw.heapDeltaPerConn)) {
      notes.push(
        `Heap per connection over baseline: ${fix(tw.heapDeltaPerConn, 0)} B (target under ` +
          `${TARGET_BYTES_PER_CONN} B), ${verdict(tw.heapDeltaPerConn < TARGET_BYTES_PER_CONN)}.`,
      );
    }
    for (const [name, s] of Object.entries(by)) {
      if (name === 'baseline' || name === 'tidewatch' || !Number.isFinite(s.cpuDeltaUsPerMsg))
        continue;
      notes.push(
        `${name}: ${fix(s.ratio.median, 2)}x throughput, ${signed(s.cpuDeltaUsPerMsg / perEcho)} µs CPU per message.`,
      );
    }
    return notes;
  };
}
