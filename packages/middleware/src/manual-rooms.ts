import { TRANSPORT_RE } from './internal/options.js';
import { type RoomRegistry, type RoomsSnapshot, roomLabel } from './internal/rooms.js';

export type { RoomFigures, RoomsSnapshot } from './internal/rooms.js';

/**
 * Rooms of one transport reported by the application (`metrics.rooms('websocket')`), for
 * `room_messages_total{room}` and `room_members_current{room}`: the top K rooms by message
 * rate by name (`rooms.topK` of `createRealtimeMetrics`, default 20), every other room
 * folded into `room="__other__"`. Room names are cut to 128 characters; an empty name and
 * `__other__` itself count in `__other__`. Every method never throws.
 *
 * @example
 * const rooms = metrics.rooms('websocket');
 * rooms.join('lobby');          // a client joined
 * rooms.message('lobby');       // one message published to the room (not per recipient)
 * rooms.leave('lobby');         // the client left (or disconnected)
 */
export interface RoomsHandle {
  /** The `transport` label of this handle's series. */
  readonly transport: string;
  /**
   * Counts `count` (default 1) messages sent to `room`: one per publish, however many
   * members receive it (`broadcast_fanout` measures recipients). O(1), allocation-free for
   * rooms already tracked.
   */
  message(room: string, count?: number): void;
  /**
   * One member joined `room`. Members are kept per room until they leave, so the
   * application must call {@link RoomsHandle.leave} for each join, on disconnect too.
   */
  join(room: string): void;
  /** One member left `room`; never below zero. */
  leave(room: string): void;
  /**
   * The shown rooms with their counters, decayed rates (messages per second, 60 s time
   * constant) and members, after attributing the messages so far (as a scrape does).
   */
  top(): RoomsSnapshot;
}

/**
 * Cached handles, one per transport: `metrics.rooms(t)` returns the same object each call,
 * so calling it per message allocates nothing.
 */
export class ManualRooms {
  private readonly registry: RoomRegistry;
  private readonly handles = new Map<string, RoomsHandle>();

  constructor(registry: RoomRegistry) {
    this.registry = registry;
  }

  handle(transport: unknown): RoomsHandle {
    const t = typeof transport === 'string' && TRANSPORT_RE.test(transport) ? transport : 'custom';
    const found = this.handles.get(t);
    if (found !== undefined) return found;
    const registry = this.registry;
    const tracker = registry.tracker(t);
    const members = tracker.members;
    const h: RoomsHandle = {
      transport: t,
      message(room, count = 1) {
        if (typeof count !== 'number' || !(count >= 1)) return;
        tracker.message(roomLabel(room), count === 1 ? 1 : Math.floor(count));
      },
      join(room) {
        const label = roomLabel(room) ?? '';
        members.set(label, (members.get(label) ?? 0) + 1);
      },
      leave(room) {
        const label = roomLabel(room) ?? '';
        const n = members.get(label);
        if (n === undefined) return;
        if (n <= 1) members.delete(label);
        else members.set(label, n - 1);
      },
      top() {
        registry.refresh();
        return tracker.snapshot();
      },
    };
    this.handles.set(t, h);
    return h;
  }
}
