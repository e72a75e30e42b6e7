import type { CloseReason } from '@tidewatch/conventions';
import type { CoarseClock } from './clock.js';
import type { HistogramSeries, ValueSeries } from './family.js';
import type { Recorder } from './recorder.js';

/** Series one (endpoint, client type) pair writes to, resolved once and shared. */
export interface Group {
  readonly opened: ValueSeries;
  readonly active: ValueSeries;
  readonly idle: ValueSeries;
  readonly msgIn: ValueSeries;
  readonly msgOut: ValueSeries;
  readonly bytesIn: ValueSeries;
  readonly bytesOut: ValueSeries;
  readonly sizeIn: HistogramSeries;
  readonly sizeOut: HistogramSeries;
  readonly endpoint: string;
}

/** What every adapter shares per server (or per transport for the manual API). */
export interface TransportContext {
  readonly recorder: Recorder;
  readonly clock: CoarseClock;
  readonly transport: string;
  readonly closeCodes: Readonly<Record<number, CloseReason>> | undefined;
  readonly groups: Map<string, Group>;
}

/** Groups kept per context; past this, a connection gets its own (uncached) group. */
const MAX_GROUPS = 4096;

/** The series for an (endpoint, client type) pair, through each metric's cardinality guard. */
export function groupFor(ctx: TransportContext, endpoint: string, clientType: string): Group {
  const key = `${endpoint}\u0001${clientType}`;
  const found = ctx.groups.get(key);
  if (found !== undefined) return found;
  const r = ctx.recorder;
  const t = ctx.transport;
  const g: Group = {
    endpoint,
    opened: r.series('connectionsOpened', [t, endpoint]),
    active: r.series('connections', [t, endpoint, 'active']),
    idle: r.series('connections', [t, endpoint, 'idle']),
    msgIn: r.series('messages', [t, endpoint, 'in', clientType]),
    msgOut: r.series('messages', [t, endpoint, 'out', clientType]),
    bytesIn: r.series('messageBytes', [t, endpoint, 'in']),
    bytesOut: r.series('messageBytes', [t, endpoint, 'out']),
    sizeIn: r.series('messageSize', [t, 'in']),
    sizeOut: r.series('messageSize', [t, 'out']),
  };
  if (ctx.groups.size < MAX_GROUPS) ctx.groups.set(key, g);
  return g;
}

/** Counts a close and observes the connection's lifetime. */
export function recordClose(
  ctx: TransportContext,
  g: Group,
  openedAt: number,
  reason: CloseReason,
  initiator: 'client' | 'server',
): void {
  const t = ctx.transport;
  ctx.recorder.inc('connectionsClosed', [t, g.endpoint, reason, initiator]);
  ctx.recorder.observe(
    'connectionDuration',
    [t, g.endpoint, reason],
    (performance.now() - openedAt) / 1000,
  );
}

/** A connection as the scrape sees it: its group, and the coarse time of its last data. */
export interface ScrapedConnection {
  readonly g: Group | null;
  readonly last: number;
}

/**
 * Adds one adapter instance's open connections to the scrape gauges: `connections`
 * (active or idle, per group), and per transport `send_buffer_bytes` and `slow_consumers`
 * (over `slowConsumerBytes` queued).
 * @param sendBuffer bytes queued on a connection; 0 for one that is not open.
 */
export function collectGauges<C extends ScrapedConnection>(
  r: Recorder,
  transport: string,
  conns: Iterable<C>,
  now: number,
  idleAfterMs: number,
  slowConsumerBytes: number,
  sendBuffer: (c: C) => number,
): void {
  let buffered = 0;
  let slow = 0;
  for (const c of conns) {
    const g = c.g!;
    if (now - c.last >= idleAfterMs) g.idle.value++;
    else g.active.value++;
    const b = sendBuffer(c);
    buffered += b;
    if (b > slowConsumerBytes) slow++;
  }
  r.series('sendBuffer', [transport]).value += buffered;
  r.series('slowConsumers', [transport]).value += slow;
}
