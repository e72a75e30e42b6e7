/**
 * Memory helpers for the hostile-target tests: a forced garbage collection (the Node 20 bug
 * where `AbortSignal.any` stops firing shows only after one) and a peak-RSS sampler (a
 * memory bound, not a timing one).
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

/** Runs a full garbage collection now (exposes `gc` on first use). */
export function forceGc(): void {
  if (!gc) {
    v8.setFlagsFromString('--expose_gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
  gc();
}

/** Samples `process.memoryUsage().rss` until stopped; `stop()` returns the peak, bytes. */
export function sampleRss(everyMs = 10): { stop(): number } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, process.memoryUsage().rss);
    },
  };
}

/** Mebibytes, for messages. */
export const MiB = 1024 * 1024;
