/**
 * Every kind of collection failure (issue 15), against a real target: an HTTP 500, a body
 * that never ends (the source's timeout), a body over `maxBodyBytes`, a duplicated series,
 * garbage, and a negative gauge. Each one is counted in
 * `tidewatch_source_errors_total{source}` exactly once per failed request, `/forecast` says
 * `source_failing` as soon as the failure is counted (the collection that failed), and the
 * next successful collection clears it. A negative value the history rejects is not shown in
 * the live figures either.
 */
import { pollUntil } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSidecar, type Sidecar } from '../../src/serve/app.js';
import { parseServeConfig } from '../../src/serve/config.js';
import { silentLogger } from '../../src/serve/log.js';
import { startTarget, type Target, type TargetMode } from './serve-target.js';
import { seededDir, serveSettings, sidecarClient } from './sidecar.js';

const seeded = seededDir('tw-serve-source-errors-');
let target: Target;
let sidecar: Sidecar;
let url = '';
const client = sidecarClient(() => url);
const errorsOf = async () =>
  (await client.metrics()).get(
    `tidewatch_source_errors_total{source="scrape:${target.metricsUrl}"}`,
  ) ?? 0;
const lastCollect = async () =>
  (await client.metrics()).get('tidewatch_last_collect_timestamp_seconds') ?? 0;

beforeAll(async () => {
  target = await startTarget();
  await target.setConnections(2);
  const config = parseServeConfig(
    serveSettings({
      source: {
        kind: 'scrape',
        urls: [target.metricsUrl],
        timeoutSeconds: 0.5,
        maxBodyBytes: 65_536,
      },
      historyPoints: 5000,
      seed: { file: seeded.seedFile },
    }),
  );
  sidecar = createSidecar(config, { log: silentLogger });
  ({ url } = await sidecar.start());
  await pollUntil(client.forecast, (d) => d.status === 'ok', {
    timeoutMs: 30_000,
    description: 'an ok forecast',
  });
});

afterAll(async () => {
  await sidecar?.stop();
  await target?.close();
  seeded.remove();
});

const CASES: Array<[TargetMode, RegExp]> = [
  ['error500', /: HTTP 500: "internal error"$/],
  ['stall', /: timed out after 500 ms$/],
  ['huge', /: response too large: over 65536 bytes$/],
  ['duplicate', /: duplicate series realtime_connections\{/],
  ['garbage', /: /],
  ['negative', /: realtime_connections\{.*state="active"\} is -6, not a finite number >= 0$/],
];

describe('collection failures', () => {
  it.each(CASES)(
    '%s: counted once per failed request, source_failing at once, cleared by the next good collection',
    async (mode, detail) => {
      const source = `scrape:${target.metricsUrl}`;
      await pollUntil(client.forecast, (d) => !d.reasonCodes.includes('source_failing'), {
        description: 'no source failure before the case',
      });
      const errorsBefore = await errorsOf();
      const servedBefore = target.served(mode);
      target.setMode(mode);
      await pollUntil(errorsOf, (n) => n > errorsBefore, {
        description: `a ${mode} failure counted`,
      });
      // The engine records the failure with the count: the next answer already says so.
      const failing = await client.forecast();
      expect(failing.reasonCodes).toContain('source_failing');
      const reason = failing.reasons.find((r) => r.startsWith('source failing: '));
      expect(reason?.startsWith(`source failing: ${source}: `)).toBe(true);
      expect(reason).toMatch(detail);
      expect(failing.status).toBe('stale');

      if (mode === 'negative') {
        // The live figures read the same exposition: -5 connections is not shown either.
        expect(failing.live?.connections).toBeNull();
        expect(failing.live?.rejected).toEqual([
          `${target.metricsUrl}: realtime_connections{transport="websocket",endpoint="/ws",state="active"} is -6, not a finite number >= 0`,
        ]);
      }

      const switchedAt = Date.now() / 1000;
      target.setMode('ok');
      // Recovery: the first collection that succeeds after the switch clears the reason.
      await pollUntil(lastCollect, (t) => t > switchedAt, { description: 'a good collection' });
      const healed = await client.forecast();
      expect(healed.reasonCodes).not.toContain('source_failing');
      expect(healed.live?.connections).toBe(2);
      expect(healed.live?.rejected).toBeUndefined();
      // Every failed request was counted once (collections never overlap, so the last failing
      // one ended before the good one).
      expect((await errorsOf()) - errorsBefore).toBe(target.served(mode) - servedBefore);
    },
  );
});
