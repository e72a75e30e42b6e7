import { OTHER_ROOM } from '@tidewatch/conventions';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRealtimeMetrics, type RealtimeMetrics } from '../../src/index.js';
import { internalsOf } from '../../src/metrics.js';
import { type Family, parseExposition } from '../helpers.js';

const MSGS = 'realtime_room_messages_total';
const MEMBERS = 'realtime_room_members_current';

function setup(topK?: number) {
  const registry = new Registry();
  const metrics = createRealtimeMetrics(
    topK === undefined ? { registry } : { registry, rooms: { topK } },
  );
  return { registry, metrics };
}

/** room -> value of one metric for one transport, from a real scrape of the registry. */
async function byRoom(
  metrics: RealtimeMetrics,
  name = MSGS,
  transport = 'custom',
): Promise<Map<string, number>> {
  const fams: Family[] = parseExposition(await metrics.registry.metrics());
  const out = new Map<string, number>();
  for (const m of fams.find((f) => f.name === name)?.metrics ?? []) {
    if (m.labels?.transport === transport) out.set(m.labels.room!, Number(m.value));
  }
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/**
 * Follows the exported series across scrapes as Prometheus does: a series that disappears
 * ends with its last value; one that comes back lower than it left is a new series (a reset).
 */
class Ledger {
  private last = new Map<string, number>();
  private readonly gone = new Map<string, number>();
  private ended = 0;
  readonly decreases: string[] = [];
  returns = 0;
  resets = 0;

  observe(got: Map<string, number>): void {
    for (const [room, v] of got) {
      const prev = this.last.get(room);
      if (prev !== undefined && v < prev) this.decreases.push(`${room}: ${prev} -> ${v}`);
      const left = this.gone.get(room);
      if (left === undefined) continue;
      this.gone.delete(room);
      if (v >= left) this.returns++;
      else {
        this.resets++;
        this.ended += left;
      }
    }
    for (const [room, v] of this.last) if (!got.has(room)) this.gone.set(room, v);
    this.last = new Map(got);
  }

  /** Messages in every series ever exported: what increase() summed over rooms sees. */
  get total(): number {
    return sum(this.last) + sum(this.gone) + this.ended;
  }
}

describe('top-K rooms', () => {
  it('shows the K busiest of M rooms with exact counts and folds the rest into __other__', async () => {
    const { metrics } = setup(5);
    const rooms = metrics.rooms();
    const M = 12;
    let total = 0;
    // Interleaved, so arrival order says nothing about rank: room i gets 7(i+1) messages.
    for (let round = 0; round < 7 * M; round++) {
      for (let i = 0; i < M; i++) {
        if (round < 7 * (i + 1)) {
          rooms.message(`room-${i}`);
          total++;
        }
      }
    }
    const got = await byRoom(metrics);
    const expected = new Map<string, number>();
    for (let i = M - 5; i < M; i++) expected.set(`room-${i}`, 7 * (i + 1));
    let rest = 0;
    for (let i = 0; i < M - 5; i++) rest += 7 * (i + 1);
    expected.set(OTHER_ROOM, rest);
    expect(got).toEqual(expected);
    expect(sum(got)).toBe(total);
    expect(total).toBe((7 * M * (M + 1)) / 2);
  });

  it('counts message(room, n), folds empty and __other__ names, and cuts long names', async () => {
    const { metrics } = setup(3);
    const rooms = metrics.rooms('websocket');
    rooms.message('a', 10);
    rooms.message('', 2);
    rooms.message(OTHER_ROOM, 3);
    rooms.message('x'.repeat(300));
    rooms.message('b', 0); // not a count: ignored
    rooms.message('b', Number.NaN);
    expect(await byRoom(metrics, MSGS, 'websocket')).toEqual(
      new Map([
        ['a', 10],
        ['x'.repeat(128), 1],
        [OTHER_ROOM, 5],
      ]),
    );
    expect(metrics.rooms('websocket')).toBe(rooms);
    expect(metrics.rooms('Not A Transport').transport).toBe('custom');
  });

  it('keeps memory and series bounded under a flood of 100,000 distinct room names', async () => {
    const K = 20;
    const { metrics } = setup(K);
    const rooms = metrics.rooms();
    const tracker = internalsOf(metrics).rooms.tracker('custom');
    let total = 0;
    let maxTable = 0;
    const ledger = new Ledger();
    for (let i = 0; i < 100_000; i++) {
      rooms.message(`flood-${i}`);
      total++;
      // Three hot rooms hide in the flood: 1 message in 10 each.
      if (i % 10 === 0) {
        for (const hot of ['hot-a', 'hot-b', 'hot-c']) {
          rooms.message(hot);
          total++;
        }
      }
      maxTable = Math.max(maxTable, tracker.tableSize);
      if (i % 5000 === 4999) {
        const got = await byRoom(metrics);
        expect(got.size).toBeLessThanOrEqual(K + 1);
        ledger.observe(got);
        expect(ledger.total).toBe(total);
        // The families hold exactly what is exported: nothing left behind by dropped rooms.
        expect(internalsOf(metrics).recorder.family('roomMessages').series.size).toBe(got.size);
      }
    }
    expect(maxTable).toBeLessThanOrEqual(4 * K);
    const final = await byRoom(metrics);
    ledger.observe(final);
    expect(ledger.total).toBe(total);
    expect(ledger.decreases).toEqual([]);
    for (const hot of ['hot-a', 'hot-b', 'hot-c']) expect(final.has(hot), hot).toBe(true);
    const top = rooms.top();
    expect(
      top.rooms
        .slice(0, 3)
        .map((r) => r.room)
        .sort(),
    ).toEqual(['hot-a', 'hot-b', 'hot-c']);
  });

  it('never lets a counter go down while rooms churn in and out of the top K', async () => {
    const K = 3;
    const { metrics } = setup(K);
    const rooms = metrics.rooms();
    const ledger = new Ledger();
    let total = 0;
    // A phase lasts 30 s on the trackers' clock, so rates move between scrapes.
    let clock = 0;
    internalsOf(metrics).rooms.now = () => clock;
    // 40 phases; in phase p room r<i> gets a triangle wave of messages, shifted per room, so
    // the top 3 changes every phase and rooms leave and come back. Seven rooms fit in the
    // half of the table kept at each scrape (8 rooms for K = 3): none is evicted or restarts.
    for (let p = 0; p < 40; p++) {
      for (let i = 0; i < 7; i++) {
        const n = 1 + 10 * Math.abs(((p + 2 * i) % 14) - 7);
        rooms.message(`r${i}`, n);
        total += n;
      }
      clock += 30_000;
      const got = await byRoom(metrics);
      expect(got.size).toBeLessThanOrEqual(K + 1);
      ledger.observe(got);
      expect(ledger.total, `phase ${p}`).toBe(total);
    }
    expect(ledger.decreases).toEqual([]);
    // Rooms left the top K and came back continuing their counters: no reset at all.
    expect(ledger.returns).toBeGreaterThan(5);
    expect(ledger.resets).toBe(0);
  });

  it('reports members of the shown rooms and sums the rest into __other__', async () => {
    const { metrics } = setup(2);
    const rooms = metrics.rooms();
    for (const [room, members, msgs] of [
      ['a', 3, 30],
      ['b', 2, 20],
      ['c', 4, 10],
      ['quiet', 5, 0],
    ] as const) {
      for (let i = 0; i < members; i++) rooms.join(room);
      rooms.message(room, msgs || 1);
      if (msgs === 0) rooms.leave('quiet'); // 4 left
    }
    rooms.leave('nowhere');
    // 'quiet' had 1 message: below a, b; 'c' folds too.
    expect(await byRoom(metrics, MEMBERS)).toEqual(
      new Map([
        ['a', 3],
        ['b', 2],
        [OTHER_ROOM, 8],
      ]),
    );
    for (let i = 0; i < 3; i++) rooms.leave('a');
    expect((await byRoom(metrics, MEMBERS)).get('a')).toBe(0);
    const snap = rooms.top();
    expect(snap.rooms.map((r) => r.room)).toEqual(['a', 'b']);
    expect(snap.rooms[0]!.perSecond).toBeGreaterThan(snap.rooms[1]!.perSecond);
    expect(snap.other).toMatchObject({ room: OTHER_ROOM, messages: 11, members: 8 });
  });

  it('exports __other__ at 0 as soon as a transport reports rooms', async () => {
    const { metrics } = setup();
    metrics.rooms('sse');
    expect(await byRoom(metrics, MSGS, 'sse')).toEqual(new Map([[OTHER_ROOM, 0]]));
    expect(await byRoom(metrics, MEMBERS, 'sse')).toEqual(new Map([[OTHER_ROOM, 0]]));
  });

  it('exports no room name with topK 0, only __other__', async () => {
    const { metrics } = setup(0);
    const rooms = metrics.rooms();
    rooms.join('dm-alice-bob');
    rooms.message('dm-alice-bob', 4);
    rooms.message('lobby');
    expect(await byRoom(metrics)).toEqual(new Map([[OTHER_ROOM, 5]]));
    expect(await byRoom(metrics, MEMBERS)).toEqual(new Map([[OTHER_ROOM, 1]]));
    expect(internalsOf(metrics).rooms.tracker('custom').tableSize).toBe(0);
  });

  it('validates rooms.topK, naming the field', () => {
    const registry = new Registry();
    const make = (rooms: unknown) => () => createRealtimeMetrics({ registry, rooms } as never);
    expect(make({ topK: -1 })).toThrow(/rooms\.topK/);
    expect(make({ topK: 1001 })).toThrow(/rooms\.topK.*0 to 1000/);
    expect(make({ topK: 2.5 })).toThrow(/rooms\.topK/);
    expect(make({ topK: '20' })).toThrow(/rooms\.topK/);
    expect(make({ topk: 20 })).toThrow(/rooms\.topk.*not a known option/);
    expect(make(7)).toThrow(/rooms/);
  });
});
