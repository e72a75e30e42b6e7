import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config.js';
import { fleetDashboard } from '../../src/dashboards/index.js';
import { promTarget, TablePanel } from '../../src/index.js';

describe('Busiest rooms table', () => {
  const panel = (fleetDashboard(DEFAULT_CONFIG).panels ?? []).find(
    (p) => p.title === 'Busiest rooms',
  );

  it('ranks rooms by message rate with their members, and keeps the __other__ row', () => {
    expect(panel?.type).toBe('table');
    const [rate, members] = panel?.targets ?? [];
    const sel = 'job=~"$job", instance=~"$instance"';
    const busiest =
      `topk(10, sum by (room) (rate(realtime_room_messages_total{${sel}, room!="__other__"}[$__rate_interval]))) or ` +
      `sum by (room) (rate(realtime_room_messages_total{${sel}, room="__other__"}[$__rate_interval]))`;
    expect(rate).toMatchObject({ expr: busiest, format: 'table', instant: true, range: false });
    expect(members).toMatchObject({
      expr: `sum by (room) (realtime_room_members_current{${sel}}) and on (room) (${busiest})`,
      format: 'table',
      instant: true,
    });
  });

  it('joins the two queries on room into named, unit-carrying columns sorted by rate', () => {
    expect(panel?.transformations).toEqual([
      { id: 'merge', options: {} },
      {
        id: 'organize',
        options: {
          excludeByName: { Time: true },
          indexByName: { room: 0, 'Value #A': 1, 'Value #B': 2 },
          renameByName: { 'Value #A': 'messages/s', 'Value #B': 'members' },
        },
      },
    ]);
    expect(panel?.fieldConfig?.overrides).toEqual([
      {
        matcher: { id: 'byName', options: 'messages/s' },
        properties: [{ id: 'unit', value: 'mps' }],
      },
      {
        matcher: { id: 'byName', options: 'members' },
        properties: [{ id: 'unit', value: 'short' }],
      },
    ]);
    expect(panel?.options?.sortBy).toEqual([{ desc: true, displayName: 'messages/s' }]);
  });

  it('refuses range queries and a column count that does not match the targets', () => {
    const base = { description: 'd', joinOn: 'room', title: 't', unit: 'short' };
    const col = { header: 'x', unit: 'short' };
    expect(() => new TablePanel({ ...base, columns: [col], targets: [promTarget('up')] })).toThrow(
      /instant, format table/,
    );
    const t = promTarget('up', { format: 'table', instant: true });
    expect(() => new TablePanel({ ...base, columns: [col, col], targets: [t] })).toThrow(
      /one column per target/,
    );
  });
});
