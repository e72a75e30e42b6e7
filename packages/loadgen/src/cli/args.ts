/**
 * The `run` command's flags turned into {@link LoadOptions}, and config errors turned back
 * into the flag that caused them.
 */
import { InvalidArgumentError } from 'commander';
import type { LoadOptions, TransportName } from '../options.js';
import { type FlightsResolution, flightsTrace, loadTrace } from '../trace.js';

/** The flags of `run` as commander parses them (values already converted). */
export interface RunFlags {
  transport: TransportName;
  rate?: number;
  trace?: string;
  flights?: FlightsResolution;
  compression?: number;
  scale?: number;
  sessionSeconds?: number;
  messageRate?: number;
  messageBytes?: number;
  rooms?: string[];
  joinRooms?: number;
  heartbeat?: number;
  ssePostUrl?: string;
  qos?: number;
  topicPrefix?: string;
  reconnect: boolean;
  maxConcurrent?: number;
  maxConnections?: number;
  duration?: number;
  dropRatio?: number;
  token?: string;
  header?: string[];
  allowRemote?: boolean;
  seed?: number;
  output: 'table' | 'json';
}

/** A bad flag combination: exit 2 (usage), like a missing argument. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A flag value parser for numbers (commander reports the flag and value on failure). */
export function number(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('not a number.');
  return n;
}

/** A flag value parser for integers. */
export function integer(value: string): number {
  const n = number(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer.');
  return n;
}

/** `--rooms a,b,c`. */
export function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `--header k:v`, repeatable. */
export function header(value: string, previous: string[] | undefined): string[] {
  if (!/^[^:\s]+:/.test(value)) throw new InvalidArgumentError('expected name:value.');
  return [...(previous ?? []), value];
}

/** Which flag sets each option path, to name the flag in a config error. */
export const FLAG_OF: Readonly<Record<string, string>> = {
  url: '<url>',
  transport: '--transport',
  token: '--token',
  headers: '--header',
  'arrivals.rate': '--rate',
  'arrivals.compression': '--compression',
  'arrivals.scale': '--scale',
  'arrivals.startAt': '--trace',
  'arrivals.trace': '--trace',
  trace: '--trace',
  'session.meanSeconds': '--session-seconds',
  'session.compressSessions': '--compression',
  'session.messagesPerSecond': '--message-rate',
  'session.messageBytes': '--message-bytes',
  'session.rooms': '--rooms',
  'session.joinRooms': '--join-rooms',
  'session.heartbeatSeconds': '--heartbeat',
  'session.ssePostUrl': '--sse-post-url',
  'session.qos': '--qos',
  'session.topicPrefix': '--topic-prefix',
  'limits.maxConcurrent': '--max-concurrent',
  'limits.maxConnections': '--max-connections',
  'limits.durationSeconds': '--duration',
  dropRatio: '--drop-ratio',
  seed: '--seed',
};

/** The flag for an option path (longest known prefix), e.g. `arrivals.trace.values[3]` -> `--trace`. */
export function flagFor(field: string): string {
  let f = field;
  for (;;) {
    const flag = FLAG_OF[f];
    if (flag !== undefined) return flag;
    const cut = Math.max(f.lastIndexOf('.'), f.lastIndexOf('['));
    if (cut <= 0) return field;
    f = f.slice(0, cut);
  }
}

/**
 * Builds the generator options from the flags.
 * @throws {UsageError} when not exactly one of --rate, --trace, --flights is given.
 * @throws {LoadgenConfigError} when the trace file is missing or malformed.
 */
export function toLoadOptions(url: string, f: RunFlags): LoadOptions {
  const sources = [f.rate, f.trace, f.flights].filter((v) => v !== undefined).length;
  if (sources !== 1) {
    throw new UsageError(
      'give exactly one of --rate <n>, --trace <file>, --flights <minutely|hourly>',
    );
  }
  if (f.rate !== undefined && (f.compression !== undefined || f.scale !== undefined)) {
    throw new UsageError('--compression and --scale apply to --trace and --flights only');
  }
  const headers: Record<string, string> = {};
  for (const h of f.header ?? []) {
    const i = h.indexOf(':');
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  const session: NonNullable<LoadOptions['session']> = {};
  if (f.sessionSeconds !== undefined) session.meanSeconds = f.sessionSeconds;
  if (f.messageRate !== undefined) session.messagesPerSecond = f.messageRate;
  if (f.messageBytes !== undefined) session.messageBytes = f.messageBytes;
  if (f.rooms !== undefined) session.rooms = f.rooms;
  if (f.joinRooms !== undefined) session.joinRooms = f.joinRooms;
  if (f.heartbeat !== undefined) session.heartbeatSeconds = f.heartbeat;
  if (f.ssePostUrl !== undefined) session.ssePostUrl = f.ssePostUrl;
  // Validated by createLoadGenerator (0, 1 or 2), which names the flag in its error.
  if (f.qos !== undefined) session.qos = f.qos as 0 | 1 | 2;
  if (f.topicPrefix !== undefined) session.topicPrefix = f.topicPrefix;
  const limits: NonNullable<LoadOptions['limits']> = {};
  if (f.maxConcurrent !== undefined) limits.maxConcurrent = f.maxConcurrent;
  if (f.maxConnections !== undefined) limits.maxConnections = f.maxConnections;
  if (f.duration !== undefined) limits.durationSeconds = f.duration;

  let arrivals: LoadOptions['arrivals'];
  if (f.rate !== undefined) arrivals = { rate: f.rate };
  else {
    const trace = f.trace !== undefined ? loadTrace(f.trace) : flightsTrace(f.flights!);
    arrivals = { trace };
    if (f.compression !== undefined) arrivals.compression = f.compression;
    if (f.scale !== undefined) arrivals.scale = f.scale;
  }
  const o: LoadOptions = { url, transport: f.transport, arrivals, session, limits, headers };
  if (!f.reconnect) o.reconnect = false;
  if (f.token !== undefined) o.token = f.token;
  if (f.dropRatio !== undefined) o.dropRatio = f.dropRatio;
  if (f.allowRemote) o.allowRemote = true;
  if (f.seed !== undefined) o.seed = f.seed;
  return o;
}
