import { OTHER_ROOM } from '@tidewatch/conventions';
import type { Family, ValueSeries } from './family.js';
import type { Recorder } from './recorder.js';

// The busiest rooms, bounded. Per-room labels are what operators ask for and what blows up
// a Prometheus server when a chat app has a million rooms, so only the top K rooms by
// message rate are exported by name and every other message adds up in `__other__`.
//
// The algorithm, and why:
// - Hot path (one message): a Map lookup in a candidate table of at most 4K rooms and an
//   integer add. A room not in the table and no free slot: its message counts for
//   `__other__` at once, and a fixed array of 4K hashed slots (a majority vote per slot,
//   Misra-Gries style) remembers which unknown names keep coming back. O(1), no allocation
//   in the steady state (a room entering the table reuses an evicted entry's object).
// - Scrape (maintain): each entry's messages since the last scrape feed an exponentially
//   decayed count (time constant 60 s) from which its rate is read, bias-corrected for
//   young entries so a new room is not ranked as slower than it is. The K highest rates are
//   shown (a shown room keeps a 25 % head start, so near-equal rooms do not flap); the
//   table keeps its best 2K entries and the vote's best names, and frees the rest, so memory
//   stays O(K) whatever the number of distinct names.
// - Counters stay monotonic and the sum exact because messages are attributed once, at the
//   scrape after they happened: to the room if it is shown then, else to `__other__`, and
//   neither value is ever taken back. A room leaving the top K has its series dropped (a
//   counter series ending is fine for Prometheus) and keeps its value while it stays in the
//   table, so coming back continues the same counter; evicted and back, it starts a new
//   series from 0, which rate() reads as a counter reset.

/** Default number of rooms shown by name (`rooms.topK`). */
export const DEFAULT_TOP_K = 20;
/** Largest accepted `rooms.topK`: more than this many named rooms is no longer "top". */
export const MAX_TOP_K = 1000;
/** Longest room name kept; longer names are cut, like every other label value. */
const MAX_ROOM_LENGTH = 128;
/** Time constant of the decayed message count, in seconds (like a 1-minute load average). */
const TAU_S = 60;
/** How much a shown room's rate is boosted when ranking, so near-equal rooms do not flap. */
const HYSTERESIS = 1.25;

/** Visits each room with its member count; called at scrape. */
export type MemberSource = (visit: (room: string, members: number) => void) => void;

/** One room's figures in {@link RoomsSnapshot}. */
export interface RoomFigures {
  /** The room name; `__other__` for the rest. */
  readonly room: string;
  /** The exported counter: messages attributed to this series so far. */
  readonly messages: number;
  /** Decayed message rate (60 s time constant), messages per second. */
  readonly perSecond: number;
  /** Members at the last scrape. */
  readonly members: number;
}

/** The top K rooms of one transport, as of the last scrape (or `top()` call). */
export interface RoomsSnapshot {
  readonly transport: string;
  /** Shown rooms, highest rate first. */
  readonly rooms: readonly RoomFigures[];
  /** Everything else, folded. */
  readonly other: RoomFigures;
}

/** A room in the candidate table. Objects are reused after eviction. */
class Entry {
  name = '';
  /** Messages since the room entered the table (the hot path adds here). */
  count = 0;
  /** `count` at the last scrape. */
  seen = 0;
  /** This room's exported counter; kept while the room stays in the table. */
  value = 0;
  /** Messages since the last scrape, during maintenance. */
  delta = 0;
  decayed = 0;
  /** Seconds in the table. */
  age = 0;
  rate = 0;
  score = 0;
  members = 0;
  shown = false;
  msgSeries: ValueSeries | null = null;
  memberSeries: ValueSeries | null = null;
}

interface Candidate {
  readonly name: string;
  readonly score: number;
  readonly votes: number;
  readonly entry: Entry | null;
}

/** Cuts a room name to a bounded label value; undefined for names that fold to `__other__`. */
export function roomLabel(room: unknown): string | undefined {
  const s = typeof room === 'string' ? room : typeof room === 'number' ? String(room) : '';
  if (s.length === 0 || s === OTHER_ROOM) return undefined;
  return s.length > MAX_ROOM_LENGTH ? s.slice(0, MAX_ROOM_LENGTH) : s;
}

function rateOf(decayed: number, ageS: number): number {
  return decayed / (TAU_S * (1 - Math.exp(-Math.max(ageS, 1) / TAU_S)));
}

const byScore = (a: { score: number; name: string }, b: { score: number; name: string }) =>
  b.score - a.score || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The top-K tracker of one transport's rooms. */
export class RoomTracker {
  readonly transport: string;
  readonly topK: number;
  /** Candidate table capacity (4K). */
  readonly capacity: number;
  private readonly table = new Map<string, Entry>();
  private readonly free: Entry[] = [];
  private readonly voteNames: Array<string | undefined>;
  private readonly voteCounts: Float64Array;
  /** Messages of rooms outside the table since the last scrape. */
  private direct = 0;
  private otherValue = 0;
  private otherDecayed = 0;
  private otherMembers = 0;
  private age = 0;
  private last: number;
  /** Members reported through the manual API (join/leave), by room. */
  readonly members = new Map<string, number>();
  readonly sources = new Set<MemberSource>();
  private readonly msgFam: Family<ValueSeries>;
  private readonly memberFam: Family<ValueSeries>;
  private readonly otherMsg: ValueSeries;
  private readonly otherMember: ValueSeries;
  private readonly onError: (site: string, err: unknown) => void;

  constructor(
    transport: string,
    topK: number,
    recorder: Recorder,
    now: number,
    onError: (site: string, err: unknown) => void,
  ) {
    this.transport = transport;
    this.topK = topK;
    this.capacity = Math.max(16, 4 * topK);
    this.voteNames = new Array(this.capacity).fill(undefined);
    this.voteCounts = new Float64Array(this.capacity);
    this.msgFam = recorder.family('roomMessages');
    this.memberFam = recorder.family('roomMembersCurrent');
    this.otherMsg = this.msgFam.get([transport, OTHER_ROOM]);
    this.otherMember = this.memberFam.get([transport, OTHER_ROOM]);
    this.last = now;
    this.onError = onError;
  }

  /** Entries in the candidate table (bounded by {@link capacity}). */
  get tableSize(): number {
    return this.table.size;
  }

  /** Counts `n` messages sent to `room` (a label from {@link roomLabel}, or undefined). O(1). */
  message(room: string | undefined, n: number): void {
    if (room === undefined || this.topK === 0) {
      this.direct += n;
      return;
    }
    const e = this.table.get(room);
    if (e !== undefined) {
      e.count += n;
      return;
    }
    if (this.table.size < this.capacity) {
      const fresh = this.free.pop() ?? new Entry();
      fresh.name = room;
      fresh.count = n;
      this.table.set(room, fresh);
      return;
    }
    this.direct += n;
    this.vote(room, n);
  }

  /** One vote per message in a hashed slot: repeat names accumulate, one-offs cancel out. */
  private vote(room: string, n: number): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < room.length; i++) h = Math.imul(h ^ room.charCodeAt(i), 0x01000193);
    const slot = (h >>> 0) % this.capacity;
    if (this.voteNames[slot] === room) {
      this.voteCounts[slot]! += n;
      return;
    }
    const left = this.voteCounts[slot]! - n;
    if (left > 0) this.voteCounts[slot] = left;
    else {
      this.voteNames[slot] = left < 0 ? room : undefined;
      this.voteCounts[slot] = -left;
    }
  }

  /**
   * Attributes the messages since the last call, re-ranks, frees table room and reads
   * members. Called at scrape; O(K log K) plus the member sources' rooms.
   */
  maintain(now: number): void {
    const dt = Math.max(0, (now - this.last) / 1000);
    this.last = now;
    this.age += dt;
    const decay = Math.exp(-dt / TAU_S);
    const ranked: Entry[] = [];
    for (const e of this.table.values()) {
      e.delta = e.count - e.seen;
      e.seen = e.count;
      e.decayed = e.decayed * decay + e.delta;
      e.age += dt;
      e.rate = rateOf(e.decayed, e.age);
      e.score = e.rate * (e.shown ? HYSTERESIS : 1);
      ranked.push(e);
    }
    ranked.sort(byScore);
    let otherDelta = this.direct;
    this.direct = 0;
    for (let i = 0; i < ranked.length; i++) {
      const e = ranked[i]!;
      if (i < this.topK && e.decayed > 0) {
        e.shown = true;
        e.value += e.delta;
      } else {
        if (e.shown) this.hide(e);
        otherDelta += e.delta;
      }
    }
    this.otherValue += otherDelta;
    this.otherDecayed = this.otherDecayed * decay + otherDelta;
    this.evict(ranked, dt);
    this.readMembers();
  }

  /** Keeps the shown rooms and the best of the rest and of the vote, up to half the table. */
  private evict(ranked: Entry[], dt: number): void {
    const rest: Candidate[] = [];
    let shown = 0;
    for (const e of ranked) {
      if (e.shown) shown++;
      else rest.push({ name: e.name, score: e.rate, votes: 0, entry: e });
    }
    for (let i = 0; i < this.capacity; i++) {
      const name = this.voteNames[i];
      const votes = this.voteCounts[i]!;
      this.voteNames[i] = undefined;
      this.voteCounts[i] = 0;
      if (name === undefined || votes <= 0 || this.table.has(name)) continue;
      rest.push({ name, score: votes / Math.max(dt, 1), votes, entry: null });
    }
    rest.sort(byScore);
    const room = Math.max(0, (this.capacity >> 1) - shown);
    for (let i = 0; i < rest.length; i++) {
      const c = rest[i]!;
      if (i < room) {
        if (c.entry !== null) continue;
        const e = this.free.pop() ?? new Entry();
        e.name = c.name;
        // The vote's count only ranks it: its messages already went to __other__.
        e.decayed = c.votes;
        e.age = dt;
        e.rate = c.score;
        this.table.set(c.name, e);
      } else if (c.entry !== null) {
        this.table.delete(c.name);
        const e = c.entry;
        e.count = e.seen = e.value = e.delta = e.decayed = e.age = e.rate = e.score = 0;
        e.members = 0;
        if (this.free.length < this.capacity) this.free.push(e);
      }
    }
  }

  private hide(e: Entry): void {
    e.shown = false;
    const labels = [this.transport, e.name];
    this.msgFam.remove(labels);
    this.memberFam.remove(labels);
    e.msgSeries = null;
    e.memberSeries = null;
  }

  private readMembers(): void {
    for (const e of this.table.values()) e.members = 0;
    this.otherMembers = 0;
    const visit = (room: string, n: number) => {
      if (!(n > 0)) return;
      const label = roomLabel(room);
      const e = label === undefined ? undefined : this.table.get(label);
      if (e?.shown) e.members += n;
      else this.otherMembers += n;
    };
    for (const [room, n] of this.members) visit(room, n);
    for (const source of this.sources) {
      try {
        source(visit);
      } catch (err) {
        this.onError('rooms.members', err);
      }
    }
  }

  /** Adds this tracker's values to the (zeroed) families. */
  write(): void {
    this.otherMsg.value += this.otherValue;
    this.otherMember.value += this.otherMembers;
    for (const e of this.table.values()) {
      if (!e.shown) continue;
      if (e.msgSeries === null || e.memberSeries === null) {
        const labels = [this.transport, e.name];
        e.msgSeries = this.msgFam.get(labels);
        e.memberSeries = this.memberFam.get(labels);
      }
      e.msgSeries.value += e.value;
      e.memberSeries.value += e.members;
    }
  }

  /** The shown rooms as of the last maintenance, highest rate first. */
  snapshot(): RoomsSnapshot {
    const rooms: RoomFigures[] = [];
    for (const e of this.table.values()) {
      if (e.shown)
        rooms.push({ room: e.name, messages: e.value, perSecond: e.rate, members: e.members });
    }
    rooms.sort((a, b) => b.perSecond - a.perSecond || b.messages - a.messages);
    return {
      transport: this.transport,
      rooms,
      other: {
        room: OTHER_ROOM,
        messages: this.otherValue,
        perSecond: rateOf(this.otherDecayed, this.age),
        members: this.otherMembers,
      },
    };
  }
}

/** The room trackers of one metrics instance, one per transport, refreshed at scrape. */
export class RoomRegistry {
  readonly topK: number;
  private readonly recorder: Recorder;
  private readonly trackers = new Map<string, RoomTracker>();
  private collecting = false;
  /** Milliseconds on a monotonic clock; replaceable so tests can let minutes pass. */
  now: () => number = () => performance.now();

  constructor(recorder: Recorder, topK: number) {
    this.recorder = recorder;
    this.topK = topK;
  }

  /** The tracker of `transport`, created (with its `__other__` series) on first use. */
  tracker(transport: string): RoomTracker {
    let t = this.trackers.get(transport);
    if (t === undefined) {
      t = new RoomTracker(transport, this.topK, this.recorder, this.now(), (site, err) =>
        this.recorder.error(site, err),
      );
      this.trackers.set(transport, t);
      if (!this.collecting) {
        this.collecting = true;
        // Never removed, not even by metrics.close(): the counters must keep their values.
        this.recorder.addCollector(() => this.refresh());
      }
    }
    return t;
  }

  /** Attributes messages, re-ranks every tracker and rewrites the room series. */
  refresh(now = this.now()): void {
    this.recorder.family('roomMessages').zero();
    this.recorder.family('roomMembersCurrent').zero();
    for (const t of this.trackers.values()) {
      try {
        t.maintain(now);
      } catch (err) {
        this.recorder.error('rooms.collect', err);
      }
      t.write();
    }
  }
}
