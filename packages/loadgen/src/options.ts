/**
 * Validation of {@link createLoadGenerator}'s options (their types are in option-types.ts,
 * re-exported here). Bad input throws {@link LoadgenConfigError} naming the field, before
 * anything connects.
 */
import { isIP } from 'node:net';
import { LoadgenConfigError } from './errors.js';
import { type MqttQos, TRANSPORT_NAMES, type TransportName } from './option-types.js';

export type {
  LimitOptions,
  LoadOptions,
  MqttQos,
  RateArrivals,
  ReconnectOptions,
  SessionOptions,
  Trace,
  TraceArrivals,
  TransportName,
} from './option-types.js';
export { TRANSPORT_NAMES } from './option-types.js';

/** Options after validation, with every default applied. */
export interface ResolvedOptions {
  url: URL;
  transport: TransportName;
  headers: Record<string, string>;
  token: string | undefined;
  arrivals:
    | { kind: 'rate'; rate: number }
    | {
        kind: 'trace';
        values: readonly number[];
        stepSeconds: number;
        compression: number;
        scale: number;
        startAt: number;
      };
  session: {
    meanSeconds: number;
    messagesPerSecond: number;
    messageBytes: number;
    rooms: readonly string[];
    joinRooms: number;
    heartbeatSeconds: number;
    ssePostUrl: URL | undefined;
    qos: MqttQos;
    topicPrefix: string;
  };
  reconnect: { baseMs: number; maxMs: number; maxAttempts: number } | false;
  limits: {
    maxConcurrent: number;
    maxConnections: number;
    durationSeconds: number;
    handshakeTimeoutMs: number;
    closeGraceMs: number;
  };
  dropRatio: number;
  seed: number | undefined;
  keepAlive: boolean;
}

type Obj = Record<string, unknown>;

function fail(field: string, message: string): never {
  throw new LoadgenConfigError(field, message);
}

function object(field: string, v: unknown, keys: readonly string[]): Obj {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(field, 'must be an object');
  for (const k of Object.keys(v as Obj)) {
    if (!keys.includes(k)) fail(field ? `${field}.${k}` : k, 'is not a known option');
  }
  return v as Obj;
}

function num(field: string, v: unknown, def: number, min: number, max: number, minOpen = false) {
  if (v === undefined) return def;
  const ok = typeof v === 'number' && Number.isFinite(v) && (minOpen ? v > min : v >= min);
  if (!ok || (v as number) > max) {
    fail(field, `must be a number ${minOpen ? '>' : '>='} ${min} and <= ${max}`);
  }
  return v as number;
}

function positiveInt(field: string, v: unknown, def: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) {
    fail(field, `must be a positive integer (at most ${max})`);
  }
  return v as number;
}

function nonNegativeInt(field: string, v: unknown, def: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) {
    fail(field, `must be an integer from 0 to ${max}`);
  }
  return v as number;
}

function bool(field: string, v: unknown, def: boolean): boolean {
  if (v === undefined) return def;
  if (typeof v !== 'boolean') fail(field, 'must be true or false');
  return v;
}

/** True for hosts that stay on this machine: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || /^::ffff:127\./i.test(h);
  return false;
}

const PROTOCOLS: Record<TransportName, readonly string[]> = {
  ws: ['ws:', 'wss:'],
  'socket.io': ['http:', 'https:'],
  sse: ['http:', 'https:'],
  mqtt: ['mqtt:', 'mqtts:', 'ws:', 'wss:'],
  grpc: ['grpc:', 'grpcs:'],
};

/** True when `s` cannot be part of a topic name a client publishes to (wildcards, NUL). */
function notATopic(s: string): boolean {
  return s.includes('+') || s.includes('#') || s.includes('\0');
}

function parseUrl(field: string, v: unknown, protocols: readonly string[], remote: boolean): URL {
  if (typeof v !== 'string' || v === '') fail(field, 'must be a non-empty URL string');
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    fail(field, `is not a valid URL: "${v}"`);
  }
  if (!protocols.includes(url.protocol)) {
    fail(field, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}, got "${v}"`);
  }
  if (!remote && !isLoopbackHost(url.hostname)) {
    fail(
      field,
      `host "${url.hostname}" is not loopback (127.0.0.0/8, ::1, localhost); set allowRemote (CLI: --allow-remote) to load it`,
    );
  }
  return url;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Validates options and applies defaults.
 * @throws {LoadgenConfigError} naming the first bad field.
 */
export function resolveOptions(input: unknown): ResolvedOptions {
  const o = object('', input, [
    'url',
    'transport',
    'headers',
    'token',
    'arrivals',
    'session',
    'reconnect',
    'limits',
    'dropRatio',
    'allowRemote',
    'seed',
    'keepAlive',
  ]);
  const transport = (o.transport ?? 'ws') as TransportName;
  if (!TRANSPORT_NAMES.includes(transport)) {
    fail('transport', `must be one of ${TRANSPORT_NAMES.join(', ')}`);
  }
  const allowRemote = bool('allowRemote', o.allowRemote, false);
  const url = parseUrl('url', o.url, PROTOCOLS[transport], allowRemote);

  const headers: Record<string, string> = {};
  if (o.headers !== undefined) {
    const h = object('headers', o.headers, Object.keys(o.headers as Obj));
    for (const [k, v] of Object.entries(h)) {
      if (!HEADER_NAME.test(k)) fail(`headers.${k}`, 'is not a valid header name');
      if (typeof v !== 'string' || /[\r\n]/.test(v)) {
        fail(`headers.${k}`, 'must be a string without line breaks');
      }
      headers[k] = v;
    }
  }
  if (
    o.token !== undefined &&
    (typeof o.token !== 'string' || o.token === '' || /\s/.test(o.token))
  ) {
    fail('token', 'must be a non-empty string without whitespace');
  }

  if (o.arrivals === undefined) fail('arrivals', 'is required: { rate } or { trace }');
  const a = object('arrivals', o.arrivals, ['rate', 'trace', 'compression', 'scale', 'startAt']);
  let arrivals: ResolvedOptions['arrivals'];
  if ((a.rate === undefined) === (a.trace === undefined)) {
    fail('arrivals', 'must have exactly one of rate or trace');
  }
  if (a.rate !== undefined) {
    for (const k of ['compression', 'scale', 'startAt']) {
      if (a[k] !== undefined) fail(`arrivals.${k}`, 'applies to trace arrivals only');
    }
    arrivals = { kind: 'rate', rate: num('arrivals.rate', a.rate, 0, 0, 100_000, true) };
  } else {
    const t = object('arrivals.trace', a.trace, ['values', 'stepSeconds']);
    const values = t.values;
    if (!Array.isArray(values) || values.length === 0) {
      fail('arrivals.trace.values', 'must be a non-empty array of numbers');
    }
    let positive = false;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        fail(`arrivals.trace.values[${i}]`, 'must be a finite number >= 0');
      }
      if (v > 0) positive = true;
    }
    if (!positive) fail('arrivals.trace.values', 'must contain at least one value > 0');
    const scale = num('arrivals.scale', a.scale, 1, 0, 1e6, true);
    arrivals = {
      kind: 'trace',
      values: values as number[],
      stepSeconds: num('arrivals.trace.stepSeconds', t.stepSeconds, Number.NaN, 0, 1e9, true),
      compression: num('arrivals.compression', a.compression, 1, 0, 1e7, true),
      scale,
      startAt: nonNegativeInt('arrivals.startAt', a.startAt, 0, values.length - 1),
    };
    if (Number.isNaN(arrivals.stepSeconds)) fail('arrivals.trace.stepSeconds', 'is required');
  }

  const s = object('session', o.session ?? {}, [
    'meanSeconds',
    'compressSessions',
    'messagesPerSecond',
    'messageBytes',
    'rooms',
    'joinRooms',
    'heartbeatSeconds',
    'ssePostUrl',
    'qos',
    'topicPrefix',
  ]);
  let meanSeconds = num('session.meanSeconds', s.meanSeconds, 30, 0, 1e7, true);
  if (bool('session.compressSessions', s.compressSessions, false)) {
    if (arrivals.kind !== 'trace') fail('session.compressSessions', 'needs trace arrivals');
    meanSeconds /= arrivals.compression;
  }
  let rooms: string[] = [];
  if (s.rooms !== undefined) {
    if (!Array.isArray(s.rooms)) fail('session.rooms', 'must be an array of room names');
    rooms = s.rooms.map((r, i) => {
      if (typeof r !== 'string' || r === '' || r.length > 256) {
        fail(`session.rooms[${i}]`, 'must be a non-empty string of at most 256 characters');
      }
      return r;
    });
    if (new Set(rooms).size !== rooms.length) fail('session.rooms', 'must not repeat a room');
  }
  const joinRooms = nonNegativeInt(
    'session.joinRooms',
    s.joinRooms,
    rooms.length > 0 ? 1 : 0,
    rooms.length,
  );
  const ssePostUrl =
    s.ssePostUrl === undefined
      ? undefined
      : parseUrl('session.ssePostUrl', s.ssePostUrl, ['http:', 'https:'], allowRemote);
  if (ssePostUrl !== undefined && transport !== 'sse') {
    fail('session.ssePostUrl', 'applies to transport "sse" only');
  }
  for (const k of ['qos', 'topicPrefix']) {
    if (s[k] !== undefined && transport !== 'mqtt') {
      fail(`session.${k}`, 'applies to transport "mqtt" only');
    }
  }
  const qos = s.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) fail('session.qos', 'must be 0, 1 or 2');
  const topicPrefix = s.topicPrefix ?? 'tidewatch/loadgen/';
  if (typeof topicPrefix !== 'string' || topicPrefix.length > 1024) {
    fail('session.topicPrefix', 'must be a string of at most 1024 characters');
  }
  if (notATopic(topicPrefix)) {
    fail('session.topicPrefix', 'must not contain the wildcards + and # or NUL');
  }
  if (transport === 'mqtt') {
    rooms.forEach((r, i) => {
      if (notATopic(r)) {
        fail(`session.rooms[${i}]`, 'must not contain + # or NUL with transport "mqtt" (a topic)');
      }
    });
  }
  const session = {
    meanSeconds,
    messagesPerSecond: num('session.messagesPerSecond', s.messagesPerSecond, 0.5, 0, 1000),
    messageBytes: nonNegativeInt('session.messageBytes', s.messageBytes, 64, 16 * 1024 * 1024),
    rooms,
    joinRooms,
    heartbeatSeconds: num('session.heartbeatSeconds', s.heartbeatSeconds, 0, 0, 86_400),
    ssePostUrl,
    qos: qos as MqttQos,
    topicPrefix,
  };
  if (session.heartbeatSeconds > 0 && session.heartbeatSeconds < 0.01) {
    fail('session.heartbeatSeconds', 'must be 0 (off) or at least 0.01');
  }

  let reconnect: ResolvedOptions['reconnect'] = false;
  if (o.reconnect !== false) {
    const r = object('reconnect', o.reconnect ?? {}, ['baseMs', 'maxMs', 'maxAttempts']);
    const baseMs = num('reconnect.baseMs', r.baseMs, 500, 0, 3_600_000, true);
    const maxMs = num('reconnect.maxMs', r.maxMs, Math.max(15_000, baseMs), 0, 3_600_000, true);
    if (maxMs < baseMs) fail('reconnect.maxMs', `must be >= reconnect.baseMs (${baseMs})`);
    reconnect = {
      baseMs,
      maxMs,
      maxAttempts: nonNegativeInt('reconnect.maxAttempts', r.maxAttempts, 5, 1000),
    };
  }

  const l = object('limits', o.limits ?? {}, [
    'maxConcurrent',
    'maxConnections',
    'durationSeconds',
    'handshakeTimeoutMs',
    'closeGraceMs',
  ]);
  const limits = {
    maxConcurrent: positiveInt('limits.maxConcurrent', l.maxConcurrent, 1000, 1_000_000),
    maxConnections: positiveInt('limits.maxConnections', l.maxConnections, 100_000, 1e9),
    durationSeconds: num('limits.durationSeconds', l.durationSeconds, 60, 0, 7 * 86_400, true),
    handshakeTimeoutMs: positiveInt(
      'limits.handshakeTimeoutMs',
      l.handshakeTimeoutMs,
      10_000,
      600_000,
    ),
    closeGraceMs: positiveInt('limits.closeGraceMs', l.closeGraceMs, 5000, 600_000),
  };

  const seed = o.seed;
  if (
    seed !== undefined &&
    (!Number.isInteger(seed) || (seed as number) < 0 || (seed as number) > 0xffffffff)
  ) {
    fail('seed', 'must be an integer from 0 to 4294967295');
  }

  return {
    url,
    transport,
    headers,
    token: o.token as string | undefined,
    arrivals,
    session,
    reconnect,
    limits,
    dropRatio: num('dropRatio', o.dropRatio, 0, 0, 1),
    seed: seed as number | undefined,
    keepAlive: bool('keepAlive', o.keepAlive, true),
  };
}
