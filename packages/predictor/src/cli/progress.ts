/** The progress bar shown on a terminal during long runs (stderr only; stdout is the result). */

import type { BacktestProgress } from '@tidewatch/forecast';
import cliProgress from 'cli-progress';

/** Receives progress; {@link ProgressSink.stop} clears the bar (idempotent). */
export interface ProgressSink {
  update(p: BacktestProgress): void;
  stop(): void;
}

const NOOP: ProgressSink = { update() {}, stop() {} };

// Each origin is 100 units of the bar so an LSTM's iterations can fill the current origin.
const UNITS = 100;

/**
 * A progress bar on `stream`, or a sink that does nothing when `enabled` is false (stderr is
 * not a TTY, or the output is JSON for a script).
 */
export function createProgress(stream: NodeJS.WriteStream, enabled: boolean): ProgressSink {
  if (!enabled) return NOOP;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: '{bar} {percentage}% | {phase} | {duration_formatted}',
      clearOnComplete: true,
      // The cursor stays visible: a Ctrl-C mid-run must not leave the terminal without one.
      hideCursor: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let total = 0;
  return {
    update(p) {
      const units = Math.max(1, p.total) * UNITS;
      const fit = p.fit && p.fit.total > 0 ? Math.min(1, p.fit.iterations / p.fit.total) : 0;
      const value = Math.min(units, p.origin * UNITS + Math.round(fit * UNITS));
      const payload = { phase: describe(p) };
      if (!started) {
        bar.start(units, value, payload);
        started = true;
      } else if (units !== total) {
        // A forecast's final fit reports as 1 origin after the backtest's K.
        bar.setTotal(units);
      }
      total = units;
      bar.update(value, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** The text beside the bar: where the run is and, while a model trains, how far it got. */
export function describe(p: BacktestProgress): string {
  const origin = p.total > 1 ? `origin ${Math.min(p.origin + 1, p.total)}/${p.total}` : 'fitting';
  if (!p.fit) return origin;
  const err = Number.isFinite(p.fit.error) ? p.fit.error.toPrecision(3) : String(p.fit.error);
  return `${origin} · ${p.fit.model} iteration ${p.fit.iterations}/${p.fit.total} error ${err}`;
}
