import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { instrumentUpgrade } from '../../src/http.js';
import {
  createRealtimeMetrics,
  type InstrumentationHandle,
  type RealtimeMetrics,
  TidewatchConfigError,
} from '../../src/index.js';
import { classify, RequestLabels } from '../../src/internal/classifier.js';
import { instrument, Patches } from '../../src/internal/instrumentation.js';
import { internalsOf } from '../../src/metrics.js';
import { instrumentWs } from '../../src/ws.js';
import { closed, connect, histogram, parseExposition, until, value } from '../helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A real http.Server listening on 127.0.0.1, closed after the test. */
async function listening(): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer((_req, res) => res.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** A real ws server in noServer mode, fed by `server`'s upgrades. */
function noServerWss(server: http.Server): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
  cleanups.push(() => {
    for (const c of wss.clients) c.terminate();
    return new Promise<void>((r) => wss.close(() => r()));
  });
  return wss;
}

function metricsOf(registry = new Registry()): RealtimeMetrics {
  const metrics = createRealtimeMetrics({ registry });
  cleanups.push(() => metrics.close());
  return metrics;
}

const scrape = async (m: RealtimeMetrics) => parseExposition(await m.registry.metrics());
const symbols = (o: object) => Object.getOwnPropertySymbols(o).map(String);

describe('Patches (the wrap/unwrap registry)', () => {
  it('undoes stacked wrappers and listeners newest first, back to the exact originals, once', async () => {
    const { server } = await listening();
    const originalClose = server.close;
    const before = server.listeners('upgrade');
    const errors: unknown[] = [];
    const patches = new Patches((err) => errors.push(err));
    const calls: string[] = [];
    const first = () => calls.push('first');
    patches.listen(server, 'upgrade', first);
    patches.listen(server, 'upgrade', () => calls.push('prepended'), true);
    expect(
      patches.wrap(
        server,
        'close',
        (orig) =>
          function outer(this: unknown, ...args: unknown[]) {
            calls.push('outer');
            return orig.apply(this, args);
          },
      ),
    ).toBe(true);
    const outer = server.close;
    patches.wrap(
      server,
      'close',
      (orig) =>
        function inner(this: unknown, ...args: unknown[]) {
          calls.push('inner');
          return orig.apply(this, args);
        },
    );
    expect(patches.wrap(server, 'notAMethod', (orig) => orig)).toBe(false);
    expect(Object.hasOwn(server, 'close')).toBe(true);
    expect(server.listeners('upgrade')[0]).not.toBe(first);
    expect(server.listenerCount('upgrade')).toBe(before.length + 2);
    server.emit('upgrade');
    expect(calls).toEqual(['prepended', 'first']);

    patches.unwrapAll();
    expect(patches.active).toBe(false);
    expect(Object.hasOwn(server, 'close')).toBe(false);
    expect(server.close).toBe(originalClose);
    expect(server.close).not.toBe(outer);
    expect(server.listeners('upgrade')).toEqual(before);
    patches.unwrapAll();
    expect(server.close).toBe(originalClose);
    expect(errors).toEqual([]);

    // Refused once undone: nothing is patched any more.
    expect(patches.wrap(server, 'close', (orig) => orig)).toBe(false);
    patches.listen(server, 'upgrade', first);
    expect(server.listeners('upgrade')).toEqual(before);
  });

  it('puts an own original back, and leaves a wrapper someone stacked on top alone', async () => {
    const { server } = await listening();
    const own = function ownAddress(this: http.Server) {
      return http.Server.prototype.address.call(this);
    };
    server.address = own;
    const patches = new Patches(() => {});
    patches.wrap(
      server,
      'address',
      (orig) =>
        function ours(this: unknown) {
          return orig.call(this);
        },
    );
    expect(server.address).not.toBe(own);
    patches.wrap(
      server,
      'ref',
      (orig) =>
        function ours(this: unknown) {
          return orig.call(this);
        },
    );
    const theirs = function theirs(this: http.Server) {
      return http.Server.prototype.ref.call(this);
    };
    server.ref = theirs;
    patches.unwrapAll();
    expect(server.address).toBe(own);
    expect(server.ref).toBe(theirs);
  });

  it('a child scope undone on its own leaves its parent; a throwing undo does not stop the rest', async () => {
    const { server } = await listening();
    const before = server.listenerCount('request');
    const errors: unknown[] = [];
    const parent = new Patches((err) => errors.push(err));
    const ran: string[] = [];
    parent.defer(() => ran.push('parent first'));
    const child = parent.child();
    child.listen(server, 'request', () => {});
    child.defer(() => ran.push('child'));
    const boom = new Error('undo failed');
    parent.defer(() => {
      throw boom;
    });
    parent.defer(() => ran.push('parent last'));
    expect(server.listenerCount('request')).toBe(before + 1);

    child.unwrapAll();
    expect(ran).toEqual(['child']);
    expect(server.listenerCount('request')).toBe(before);
    parent.unwrapAll();
    expect(ran).toEqual(['child', 'parent last', 'parent first']);
    expect(errors).toEqual([boom]);
    // Deferred after the undo: runs at once.
    parent.defer(() => ran.push('late'));
    expect(ran.at(-1)).toBe('late');
  });
});

describe('instrument* handles and attach-once (real ws and http servers)', () => {
  it('instrumentWs: same metrics -> the same handle; other metrics -> TW_ERR_ALREADY_INSTRUMENTED', async () => {
    const { server } = await listening();
    const wss = noServerWss(server);
    const metrics = metricsOf();
    const handle = instrumentWs(wss, metrics, { server });
    expect(typeof handle).toBe('function');
    expect(typeof handle.detach).toBe('function');
    expect(instrumentWs(wss, metrics)).toBe(handle);
    let err: unknown;
    try {
      instrumentWs(wss, metricsOf());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TidewatchConfigError);
    expect(err).toMatchObject({
      code: 'TW_ERR_ALREADY_INSTRUMENTED',
      option: 'wss',
      message:
        'tidewatch: option "wss" is already instrumented by another metrics instance; detach it first',
    });
    // Bad options still throw on a second attach, before the attach-once check.
    expect(() => instrumentWs(wss, metrics, { transport: 'Not Valid' })).toThrow(
      expect.objectContaining({ option: 'transport', code: 'TW_ERR_INVALID_OPTION' }),
    );
    handle();
  });

  it('instrumentWs: the handle and its .detach() restore the exact methods, listeners and marks', async () => {
    const { server, port } = await listening();
    const wss = noServerWss(server);
    const metrics = metricsOf();
    const pristine = {
      ownHandleUpgrade: Object.hasOwn(wss, 'handleUpgrade'),
      handleUpgrade: wss.handleUpgrade,
      upgrade: server.listeners('upgrade'),
      symbols: symbols(wss),
    };
    expect(pristine.ownHandleUpgrade).toBe(false);
    expect(pristine.handleUpgrade).toBe(WebSocketServer.prototype.handleUpgrade);
    const internals = internalsOf(metrics);
    const detachersBefore = internals.detachers.size;

    for (const undo of [
      (h: InstrumentationHandle) => h(),
      (h: InstrumentationHandle) => h.detach(),
    ]) {
      const h = instrumentWs(wss, metrics, { server, endpoint: 'unit' });
      expect(Object.hasOwn(wss, 'handleUpgrade')).toBe(true);
      expect(server.listenerCount('upgrade')).toBe(pristine.upgrade.length + 1);
      expect(server.listeners('upgrade').slice(1)).toEqual(pristine.upgrade);
      expect(symbols(wss)).toEqual([...pristine.symbols, 'Symbol(tidewatch.ws.attached)']);
      expect(internals.detachers.size).toBe(detachersBefore + 1);

      const ws = await connect(`ws://127.0.0.1:${port}/`);
      await until('the connection is counted', async () => {
        return value(await scrape(metrics), 'realtime_connections', { endpoint: 'unit' }) === 1;
      });
      undo(h);
      expect(Object.hasOwn(wss, 'handleUpgrade')).toBe(false);
      expect(wss.handleUpgrade).toBe(pristine.handleUpgrade);
      expect(server.listeners('upgrade')).toEqual(pristine.upgrade);
      expect(symbols(wss)).toEqual(pristine.symbols);
      expect(internals.detachers.size).toBe(detachersBefore);
      expect(value(await scrape(metrics), 'realtime_connections')).toBe(0);
      h();
      h.detach();
      expect(server.listeners('upgrade')).toEqual(pristine.upgrade);
      ws.close();
      await closed(ws);
      await until('the server side closed', () => wss.clients.size === 0);
    }
    // Detached, another metrics instance may attach.
    const other = metricsOf();
    const again = instrumentWs(wss, other);
    expect(instrumentWs(wss, other)).toBe(again);
    other.close();
    expect(Object.hasOwn(wss, 'handleUpgrade')).toBe(false);
    expect(symbols(wss)).toEqual(pristine.symbols);
  });

  it('attaching twice counts once: one connection, one open', async () => {
    const { server, port } = await listening();
    const wss = noServerWss(server);
    const metrics = metricsOf();
    instrumentWs(wss, metrics, { server });
    instrumentWs(wss, metrics, { server });
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    let fams = await scrape(metrics);
    await until('the open is counted', async () => {
      fams = await scrape(metrics);
      return value(fams, 'realtime_connections_opened_total') >= 1;
    });
    expect(value(fams, 'realtime_connections_opened_total')).toBe(1);
    expect(
      histogram(fams, 'realtime_handshake_duration_seconds', { outcome: 'success' }),
    ).toMatchObject({ count: 1 });
    ws.close();
  });

  it('instrumentUpgrade: a callable handle with .detach() and .connectionFor(); attaches per call', async () => {
    const { server } = await listening();
    const metrics = metricsOf();
    const before = server.listeners('upgrade');
    const a = instrumentUpgrade(server, metrics, { filter: (req) => req.url === '/a' });
    const b = instrumentUpgrade(server, metrics, { filter: (req) => req.url === '/b' });
    expect(a).not.toBe(b);
    expect(typeof a).toBe('function');
    expect(typeof a.detach).toBe('function');
    expect(typeof a.connectionFor).toBe('function');
    expect(server.listenerCount('upgrade')).toBe(before.length + 2);
    a();
    expect(server.listenerCount('upgrade')).toBe(before.length + 1);
    b.detach();
    b();
    expect(server.listeners('upgrade')).toEqual(before);
    expect(a.connectionFor(new net.Socket())).toBe(undefined);
  });

  it('a setup that throws leaves nothing behind', async () => {
    const { server } = await listening();
    const metrics = metricsOf();
    const internals = internalsOf(metrics);
    const before = { listeners: server.listeners('upgrade'), detachers: internals.detachers.size };
    const boom = new Error('setup failed');
    expect(() =>
      instrument(
        metrics,
        internals,
        'unit',
        { target: server, key: Symbol('k'), option: 'x' },
        (inst) => {
          inst.patches.listen(server, 'upgrade', () => {});
          inst.patches.wrap(server, 'close', (orig) => orig);
          throw boom;
        },
      ),
    ).toThrow(boom);
    expect(server.listeners('upgrade')).toEqual(before.listeners);
    expect(Object.hasOwn(server, 'close')).toBe(false);
    expect(internals.detachers.size).toBe(before.detachers);
  });
});

describe('guarded classifiers', () => {
  it('a throwing classifier gives `unknown` and counts instrumentation_errors_total{site}', async () => {
    const seen: Array<[unknown, string]> = [];
    const registry = new Registry();
    const metrics = createRealtimeMetrics({ registry, onError: (e, site) => seen.push([e, site]) });
    cleanups.push(() => metrics.close());
    const { recorder } = internalsOf(metrics);
    const req = new http.IncomingMessage(null as never);
    req.headers['x-client'] = 'ios';
    const boom = new Error('classifier failed');
    const labels = new RequestLabels(
      recorder,
      () => {
        throw boom;
      },
      (r) => String(r.headers['x-client']),
    );
    expect(labels.endpoint(req)).toBe('unknown');
    expect(labels.clientType(req)).toBe('ios');
    expect(classify(recorder, 'fixed', req, 'classifier.endpoint')).toBe('fixed');
    expect(classify(recorder, () => 'x'.repeat(200), req, 'classifier.endpoint')).toBe(
      'x'.repeat(128),
    );
    expect(new RequestLabels(recorder, undefined, undefined, () => 'route').endpoint(req)).toBe(
      'route',
    );
    expect(new RequestLabels(recorder, undefined, undefined).clientType(req)).toBe('unknown');
    const fams = await scrape(metrics);
    expect(
      value(fams, 'realtime_instrumentation_errors_total', { site: 'classifier.endpoint' }),
    ).toBe(1);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(1);
    expect(seen).toEqual([[boom, 'classifier.endpoint']]);
  });

  it('on a real ws server: the connection opens under `unknown` and the error is counted once', async () => {
    const { server, port } = await listening();
    const wss = noServerWss(server);
    const metrics = metricsOf();
    instrumentWs(wss, metrics, {
      server,
      endpoint: () => {
        throw new Error('no endpoint');
      },
      clientType: () => 'web',
    });
    const ws = await connect(`ws://127.0.0.1:${port}/`);
    let fams = await scrape(metrics);
    await until('the open is counted', async () => {
      fams = await scrape(metrics);
      return value(fams, 'realtime_connections_opened_total') === 1;
    });
    expect(value(fams, 'realtime_connections_opened_total', { endpoint: 'unknown' })).toBe(1);
    expect(
      value(fams, 'realtime_instrumentation_errors_total', { site: 'classifier.endpoint' }),
    ).toBe(1);
    expect(value(fams, 'realtime_instrumentation_errors_total')).toBe(1);
    ws.close();
  });
});
