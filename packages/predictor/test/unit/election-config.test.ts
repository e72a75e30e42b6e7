/**
 * The `election` block: defaults, environment variables, client-go's timing rules, the
 * start-time defaults (identity, namespace), the model ConfigMap encoding and its refusals,
 * and the signals a follower does not publish.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveElection } from '../../src/election/index.js';
import type { KubeApi } from '../../src/election/kube-api.js';
import {
  createModelStore,
  decodeModel,
  EPOCH_ANNOTATION,
  encodeModel,
  MAX_MODEL_BYTES,
} from '../../src/election/model-store.js';
import { ConfigError, loadServeConfig } from '../../src/serve/config.js';
import type { SavedModel } from '../../src/serve/model-file.js';

const URLS = { TIDEWATCH_SCRAPE_URLS: 'http://127.0.0.1:9000/metrics' };
const load = (env: Record<string, string>, file?: unknown) => {
  const args: Parameters<typeof loadServeConfig>[0] = { env: { ...URLS, ...env } };
  if (file !== undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tw-election-config-'));
    const path = join(dir, 'c.json');
    writeFileSync(path, JSON.stringify(file));
    args.flags = { config: path };
  }
  return loadServeConfig(args);
};

const model = (params: unknown): SavedModel => ({
  metric: 'realtime_connections',
  stepMs: 60_000,
  trainedAtMs: 1_800_000_000_000,
  model: 'holt-winters',
  scores: null,
  maseScale: null,
  fitted: {
    version: 1,
    model: { kind: 'holt-winters', name: 'holt-winters', params },
    band: null,
    stepMs: 60_000,
    startMs: 0,
    horizon: 60,
    season: {},
  } as unknown as SavedModel['fitted'],
});

describe('election config', () => {
  it('is off by default with client-go timings', () => {
    expect(load({}).election).toEqual({
      enabled: false,
      leaseName: 'tidewatch-predictor',
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
    });
  });

  it('reads its variables', () => {
    const e = load({
      TIDEWATCH_ELECTION_ENABLED: 'true',
      TIDEWATCH_ELECTION_LEASE_NAME: 'chat',
      TIDEWATCH_ELECTION_NAMESPACE: 'realtime',
      TIDEWATCH_ELECTION_IDENTITY: 'chat-0',
      TIDEWATCH_ELECTION_API_SERVER: 'http://127.0.0.1:8001',
      TIDEWATCH_ELECTION_MODEL_CONFIGMAP: 'chat-model',
    }).election;
    expect(e).toMatchObject({
      enabled: true,
      leaseName: 'chat',
      namespace: 'realtime',
      identity: 'chat-0',
      apiServer: 'http://127.0.0.1:8001',
      modelConfigMap: 'chat-model',
    });
  });

  it('refuses timings client-go would refuse, naming the field', () => {
    expect(() =>
      load({}, { election: { enabled: true, leaseDurationSeconds: 10, renewDeadlineSeconds: 10 } }),
    ).toThrow(/election\.leaseDurationSeconds must be greater than election\.renewDeadlineSeconds/);
    expect(() =>
      load({}, { election: { enabled: true, renewDeadlineSeconds: 2, retryPeriodSeconds: 2 } }),
    ).toThrow(
      /election\.renewDeadlineSeconds must be greater than election\.retryPeriodSeconds x 1\.2/,
    );
    expect(() => load({ TIDEWATCH_ELECTION_API_SERVER: 'ftp://x' })).toThrow(ConfigError);
  });

  it('defaults identity to POD_NAME and namespace to the service account, else says what is missing', () => {
    const config = load({ TIDEWATCH_ELECTION_ENABLED: 'true' });
    const dir = mkdtempSync(join(tmpdir(), 'tw-sa-'));
    writeFileSync(join(dir, 'namespace'), 'realtime\n');
    expect(
      resolveElection(config, { POD_NAME: 'chat-7f9c' }, join(dir, 'namespace')),
    ).toMatchObject({
      identity: 'chat-7f9c',
      namespace: 'realtime',
      leaseDurationMs: 15_000,
    });
    expect(resolveElection(config, {}, join(dir, 'none'))).toEqual({
      problems: [
        `election.namespace must be set (no service account namespace at ${join(dir, 'none')})`,
      ],
    });
  });
});

describe('model ConfigMap', () => {
  it('small models are readable JSON, big ones gzip, both decode to the model', () => {
    const small = encodeModel(model({ alpha: 0.5 }));
    expect(Object.keys(small.data ?? {})).toEqual(['model.json']);
    const big = encodeModel(model({ weights: Array.from({ length: 150_000 }, (_, i) => i % 97) }));
    expect(Object.keys(big.binaryData ?? {})).toEqual(['model.json.gz']);
    expect(big.bytes).toBeLessThan(big.jsonBytes);
    expect(decodeModel(big, 'cm')?.fitted.model.params).toEqual(
      model({ weights: Array.from({ length: 150_000 }, (_, i) => i % 97) }).fitted.model.params,
    );
  });

  /** An API stub recording requests and answering from `answers` (by method). */
  const stub = (answers: Record<string, { status: number; body?: unknown }>) => {
    const calls: string[] = [];
    const api: KubeApi = {
      baseUrl: 'http://stub',
      async request(method, path) {
        calls.push(`${method} ${path}`);
        const a = answers[method];
        return a ? { status: a.status, body: a.body } : { status: 500, body: undefined };
      },
    };
    return { api, calls };
  };

  it('refuses a model over the ConfigMap limit before sending anything', async () => {
    const { api, calls } = stub({});
    // Random digits do not compress: well over 1 MB of gzip.
    let seed = 7;
    const noise = Array.from({ length: 400_000 }, () => {
      seed = (seed * 48_271) % 2_147_483_647;
      return seed;
    });
    const outcome = await createModelStore(api, 'ns', 'm', 1000).save(model({ noise }), {
      identity: 'a',
      epoch: 1,
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' && outcome.reason).toMatch(
      new RegExp(`over the ${MAX_MODEL_BYTES}-byte limit of a ConfigMap`),
    );
    expect(calls).toEqual([]);
  });

  it('does not overwrite a model of a newer leader; a 409 is not a failure', async () => {
    const newer = { metadata: { resourceVersion: '9', annotations: { [EPOCH_ANNOTATION]: '5' } } };
    const fenced = stub({ GET: { status: 200, body: newer } });
    expect(
      await createModelStore(fenced.api, 'ns', 'm', 1000).save(model({}), {
        identity: 'a',
        epoch: 4,
      }),
    ).toMatchObject({ status: 'skipped' });
    expect(fenced.calls).toEqual(['GET /api/v1/namespaces/ns/configmaps/m']);
    const raced = stub({ GET: { status: 200, body: newer }, PUT: { status: 409 } });
    expect(
      await createModelStore(raced.api, 'ns', 'm', 1000).save(model({}), {
        identity: 'a',
        epoch: 5,
      }),
    ).toMatchObject({ status: 'skipped' });
    const created = stub({ GET: { status: 404 }, POST: { status: 201 } });
    expect(
      await createModelStore(created.api, 'ns', 'm', 1000).save(model({}), {
        identity: 'a',
        epoch: 0,
      }),
    ).toMatchObject({ status: 'saved' });
    expect(created.calls).toEqual([
      'GET /api/v1/namespaces/ns/configmaps/m',
      'POST /api/v1/namespaces/ns/configmaps',
    ]);
  });
});
