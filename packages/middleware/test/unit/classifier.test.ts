import http from 'node:http';
import { Registry } from 'prom-client';
import { Server as SocketIoServer } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { longPoll, sse } from '../../src/express.js';
import { instrumentUpgrade } from '../../src/http.js';
import { createRealtimeMetrics, TidewatchConfigError } from '../../src/index.js';
import { classifierResult, classify, RequestLabels } from '../../src/internal/classifier.js';
import { isAsyncFunction } from '../../src/internal/validate.js';
import { internalsOf } from '../../src/metrics.js';
import { instrumentSocketIo } from '../../src/socket.io.js';
import { instrumentWs } from '../../src/ws.js';
import { parseExposition, value } from '../helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

function metricsOf() {
  const metrics = createRealtimeMetrics({ registry: new Registry() });
  cleanups.push(() => metrics.close());
  return metrics;
}

/** The option a construction error names, or undefined when `fn` does not throw. */
function optionOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(TidewatchConfigError);
    expect((err as Error).message).toMatch(/synchronous function/);
    return (err as TidewatchConfigError).option;
  }
  return undefined;
}

const asyncClassifier = async () => 'chat';

describe('async classifiers are refused at construction, naming the option', () => {
  it('recognises async functions, arrows, generators and bound ones; not plain functions', () => {
    expect(isAsyncFunction(async () => 'x')).toBe(true);
    expect(isAsyncFunction(async function named() {})).toBe(true);
    expect(isAsyncFunction(async function* gen() {})).toBe(true);
    expect(isAsyncFunction(asyncClassifier.bind(null))).toBe(true);
    expect(isAsyncFunction(() => Promise.resolve('x'))).toBe(false);
    expect(isAsyncFunction(function plain() {})).toBe(false);
  });

  it.each([
    ['createRealtimeMetrics', 'endpoint'],
    ['createRealtimeMetrics', 'clientType'],
    ['instrumentWs', 'endpoint'],
    ['instrumentWs', 'clientType'],
    ['instrumentSocketIo', 'clientType'],
    ['instrumentUpgrade', 'endpoint'],
    ['instrumentUpgrade', 'clientType'],
    ['instrumentUpgrade', 'filter'],
    ['sse', 'endpoint'],
    ['sse', 'clientType'],
    ['longPoll', 'endpoint'],
    ['longPoll', 'clientType'],
    ['longPoll', 'clientId'],
    ['longPoll', 'isEmpty'],
    ['longPoll', 'countMessages'],
  ])('%s({ %s: async () => ... })', (api, option) => {
    const opts = { [option]: asyncClassifier } as never;
    const construct: Record<string, () => unknown> = {
      createRealtimeMetrics: () =>
        createRealtimeMetrics({ registry: new Registry(), ...(opts as object) }),
      instrumentWs: () => instrumentWs(new WebSocketServer({ noServer: true }), metricsOf(), opts),
      // Not attached to an HTTP server: nothing listens, nothing to close.
      instrumentSocketIo: () => instrumentSocketIo(new SocketIoServer(), metricsOf(), opts),
      instrumentUpgrade: () => instrumentUpgrade(http.createServer(), metricsOf(), opts),
      sse: () => sse(metricsOf(), opts),
      longPoll: () => longPoll(metricsOf(), opts),
    };
    expect(optionOf(construct[api]!)).toBe(option);
  });
});

describe('a classifier that returns a non-string at runtime', () => {
  it('is counted as an instrumentation error and labelled `unknown`, never `[object Promise]`', async () => {
    const seen: string[] = [];
    const metrics = createRealtimeMetrics({
      registry: new Registry(),
      onError: (_e, site) => seen.push(site),
    });
    cleanups.push(() => metrics.close());
    const { recorder } = internalsOf(metrics);
    const req = new http.IncomingMessage(null as never);
    const site = 'classifier.endpoint';
    // Not declared async, so construction cannot tell: a transpiled async function, say.
    expect(classify(recorder, () => Promise.resolve('chat') as never, req, site)).toBe('unknown');
    // A rejection is made handled: unhandled, it would crash the host (and fail this test).
    expect(classify(recorder, () => Promise.reject(new Error('x')) as never, req, site)).toBe(
      'unknown',
    );
    expect(classify(recorder, () => ({ endpoint: 'chat' }) as never, req, site)).toBe('unknown');
    expect(classify(recorder, () => 42 as never, req, site)).toBe('unknown');
    const labels = new RequestLabels(recorder, undefined, () => Symbol('web') as never);
    expect(labels.clientType(req)).toBe('unknown');
    // No answer is not an error: a missing header gives the fallback quietly.
    expect(classify(recorder, () => undefined as never, req, site)).toBe('unknown');
    expect(classify(recorder, () => '', req, site)).toBe('unknown');
    expect(classifierResult(recorder, null, 'classifier.client_id', '')).toBe('');

    const text = await metrics.registry.metrics();
    expect(text).not.toContain('[object');
    const fams = parseExposition(text);
    const errors = (s: string) => value(fams, 'realtime_instrumentation_errors_total', { site: s });
    expect(errors(site)).toBe(4);
    expect(errors('classifier.client_type')).toBe(1);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(5);
    expect(seen).toEqual([site, site, site, site, 'classifier.client_type']);
  });
});
