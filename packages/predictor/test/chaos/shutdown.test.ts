/**
 * SIGTERM while a collection is stuck (the source stalls with a 60 s request deadline): the
 * process exits within `shutdownTimeoutSeconds` (3 here) plus slack for a busy machine, with
 * code 0 (clean) or 1 (forced by the deadline), never by a signal, and the history file holds
 * every point collected before.
 */
import { type CliExit, pollUntil, sumSamples, withTimeout } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { chaosFixture, historyFilePoints, launch, report, scrapeOf } from './harness.js';

const SHUTDOWN_TIMEOUT_SECONDS = 3;
/**
 * The exit path and process teardown on a loaded machine; not a speed claim. Deadline plus
 * slack stays under the default 15 s, so a sidecar that ignored the setting would fail.
 */
const SLACK_SECONDS = 7;

const fixture = chaosFixture('tw-chaos-shutdown-');

describe('shutdown deadline', () => {
  for (const mode of ['stall-silent', 'stall-headers'] as const) {
    it(`SIGTERM during a stuck collection (${mode}) exits in time with the history intact`, async () => {
      const chaos = fixture.chaos();
      const s = await launch({
        workDir: fixture.work.dir,
        name: `shutdown-${mode}`,
        source: scrapeOf(chaos, { timeoutSeconds: 60 }),
        seedFile: fixture.work.seedFile,
        settings: { shutdownTimeoutSeconds: SHUTDOWN_TIMEOUT_SECONDS },
      });
      const stuckBefore = chaos.openResponses(mode);
      chaos.setMode(mode);
      let exit: CliExit;
      let points: number;
      try {
        // The collector is inside a request that will not end.
        await pollUntil(
          async () => chaos.openResponses(mode),
          (n) => n > stuckBefore,
          { timeoutMs: 30_000, intervalMs: 50, description: `a collection stuck in ${mode}` },
        );
        points = sumSamples(await s.metricsText(), 'tidewatch_history_points');
        const t0 = Date.now();
        s.run.kill('SIGTERM');
        exit = await withTimeout(
          s.run.exited,
          (SHUTDOWN_TIMEOUT_SECONDS + SLACK_SECONDS) * 1000,
          `exit within ${SHUTDOWN_TIMEOUT_SECONDS} s + ${SLACK_SECONDS} s slack`,
        );
        report(`SIGTERM while stuck (${mode})`, {
          exitedAfterMs: Date.now() - t0,
          code: exit.code,
          signal: exit.signal,
        });
      } finally {
        chaos.heal();
        s.run.kill('SIGKILL'); // a no-op once it has exited
      }
      expect(exit.signal).toBeNull();
      expect([0, 1]).toContain(exit.code);
      expect(historyFilePoints(s.historyFile)).toBeGreaterThanOrEqual(points);
    });
  }
});
