/**
 * The "Busiest rooms" table of the "Realtime fleet" dashboard's Traffic row (split from
 * fleet.ts to keep files small). The middleware exports per-room figures only for the top K
 * rooms by message rate of each server (`rooms.topK`, default 20) and folds every other room
 * into `room="__other__"`, so this table stays bounded however many rooms a fleet has.
 */
import { OTHER_ROOM } from '@tidewatch/conventions';
import type { MixinConfig } from '../config.js';
import { TablePanel } from '../grafana/panels.js';
import { promTarget as q } from '../grafana/targets.js';
import { metricName, rate, selector } from './common.js';

/** Rows the table shows by name (plus the `__other__` row). */
const ROWS = 10;

/**
 * The table: the busiest rooms by message rate over the fleet, with their members, and the
 * `__other__` row for everything else.
 */
export function busiestRoomsPanel(c: MixinConfig): TablePanel {
  const msgs = metricName(c, 'roomMessages');
  const members = metricName(c, 'roomMembersCurrent');
  const named = `room!="${OTHER_ROOM}"`;
  const other = `room="${OTHER_ROOM}"`;
  const perRoom = `sum by (room) (${rate(msgs, c, named)})`;
  const busiest = `topk(${ROWS}, ${perRoom}) or sum by (room) (${rate(msgs, c, other)})`;
  const table = { format: 'table', instant: true, legendFormat: '{{room}}' } as const;
  return new TablePanel({
    columns: [
      { header: 'messages/s', unit: 'mps' },
      { header: 'members', unit: 'short' },
    ],
    description:
      `The ${ROWS} busiest rooms by messages per second published to them (one per broadcast, not per recipient), with their current members, summed over the selected instances; ` +
      `${OTHER_ROOM} is every room a server does not export by name. Each server exports its own top K rooms by rate (rooms.topK, default 20): ` +
      `a room that is busy on one pod but not in that pod's top K counts in that pod's ${OTHER_ROOM}, so spread-out rooms read low here. Socket.IO rooms count on the node that broadcast; other transports' rooms as the application reports them (metrics.rooms()).`,
    joinOn: 'room',
    targets: [
      q(busiest, table),
      q(`sum by (room) (${members}${selector(c)}) and on (room) (${busiest})`, table),
    ],
    title: 'Busiest rooms',
    unit: 'short',
  });
}
