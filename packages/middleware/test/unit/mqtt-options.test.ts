import { EventEmitter } from 'node:events';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  connackOutcome,
  connackType,
  mqttErrorType,
  reasonForErrorType,
} from '../../src/adapters/mqtt/reasons.js';
import { createRealtimeMetrics, TidewatchConfigError } from '../../src/index.js';
import { type AedesLike, defaultTopic, instrumentAedes } from '../../src/mqtt.js';

/** Just enough of an aedes broker for construction: options are checked before any hook. */
function fakeBroker(): AedesLike {
  const b = new EventEmitter() as unknown as Record<string, unknown>;
  b.handle = () => {};
  b.preConnect = (_c: unknown, _p: unknown, cb: (e: null, ok: boolean) => void) => cb(null, true);
  b.authorizeForward = (_c: unknown, p: unknown) => p;
  b.published = (_p: unknown, _c: unknown, cb: () => void) => cb();
  b.registerClient = () => {};
  b.close = () => {};
  b.clients = {};
  return b as unknown as AedesLike;
}

describe('instrumentAedes options', () => {
  it.each([
    [{ endpoint: 5 }, 'endpoint'],
    [{ endpoint: async () => 'tcp' }, 'endpoint'],
    [{ clientType: 'web' }, 'clientType'],
    [{ topic: 'sensors' }, 'topic'],
    [{ topic: async () => 'x' }, 'topic'],
    [{ slowConsumerBytes: -1 }, 'slowConsumerBytes'],
    [{ maxConnections: 0 }, 'maxConnections'],
    [{ transport: 'MQTT!' }, 'transport'],
    [{ topics: () => 'x' }, 'topics'],
  ])('%j throws naming %s', (opts, option) => {
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    let err: unknown;
    try {
      instrumentAedes(fakeBroker(), metrics, opts as never);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TidewatchConfigError);
    expect((err as TidewatchConfigError).option).toBe(option);
  });

  it('refuses something that is not an aedes broker, naming it', () => {
    const metrics = createRealtimeMetrics({ registry: new Registry() });
    expect(() => instrumentAedes({} as AedesLike, metrics)).toThrow(/option "broker"/);
    expect(() => instrumentAedes(fakeBroker(), {} as never)).toThrow(/option "metrics"/);
  });
});

describe('the default topic classifier', () => {
  it.each([
    ['sensors/+/temp', 'sensors/#'],
    ['sensors/#', 'sensors/#'],
    ['alerts', 'alerts'],
    ['#', '#'],
    ['+/status', '+/#'],
    ['$share/workers/jobs/+', 'jobs/#'],
    ['$share/workers/jobs', 'jobs'],
    ['$SYS/broker/uptime', '$SYS/#'],
    ['/leading', '/#'],
  ])('%s -> %s', (filter, label) => {
    expect(defaultTopic(filter)).toBe(label);
  });
});

describe('aedes signals as bounded values', () => {
  it('names CONNACK codes and their outcome', () => {
    expect(connackType(4)).toBe('connack_bad_username_or_password');
    expect(connackType(5)).toBe('connack_not_authorized');
    expect(connackType(99)).toBe('connack_other');
    expect(connackOutcome(3)).toBe('error');
    expect(connackOutcome(4)).toBe('rejected');
  });

  it('types errors by code, then by aedes message, else unknown', () => {
    const coded = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(mqttErrorType(coded)).toBe('econnreset');
    expect(mqttErrorType(new Error('keep alive timeout'))).toBe('keepalive_timeout');
    expect(mqttErrorType(new Error('drain timeout'))).toBe('drain_timeout');
    expect(mqttErrorType(new Error('# is only allowed in SUBSCRIBE in the last position'))).toBe(
      'invalid_topic',
    );
    expect(mqttErrorType(new Error(`user ${Math.random()} may not publish`))).toBe('unknown');
    expect(mqttErrorType(null)).toBe('unknown');
    expect(reasonForErrorType('econnreset')).toEqual({ reason: 'abnormal', initiator: 'client' });
    expect(reasonForErrorType('drain_timeout')).toEqual({
      reason: 'slow_consumer',
      initiator: 'server',
    });
    expect(reasonForErrorType('unknown')).toEqual({ reason: 'error', initiator: 'server' });
  });
});
