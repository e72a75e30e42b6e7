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
