/**
 * The pods of the sticky simulator and the clients between them: a fleet table (per-pod
 * connection counts, ready and termination times), the reconnect queue of clients whose pod
 * went away, and the node slots that decide which new pods wait for a node.
 */

/**
 * The pods, struct-of-arrays (numbers only: the simulator touches every pod at every HPA
 * sync, a million times over a six-month trace). Kept in creation order; a removed pod's row
 * is closed up, so the index of a pod changes when an older one goes.
 */
export class Fleet {
  /** Pods in the table (starting, ready and terminating). */
  size = 0;
  /** Connections per pod (fractional: derived from totals, see docs). */
  load = new Float64Array(16);
  /** Time the pod serves from, seconds. */
  readyAt = new Float64Array(16);
  /** Time a terminating pod is gone, seconds; +Infinity while it is not terminating. */
  endAt = new Float64Array(16);
  /** Work list of ready pod indices, filled by {@link Fleet.readyPods}. */
  ready = new Int32Array(16);
  /**
   * The pod template's revision each pod was created from (a rollout bumps
   * {@link Fleet.revision}: the pods of older revisions are the old ReplicaSet's).
   */
  podRevision = new Int32Array(16);
  /** The Deployment's current template revision: new pods get it. Starts at 0. */
  revision = 0;

  /** Adds a pod with no connections that becomes ready at `readyAtS`, of `revision` (default the current one). */
  add(readyAtS: number, revision = this.revision): void {
    if (this.size === this.load.length) this.grow();
    this.load[this.size] = 0;
    this.readyAt[this.size] = readyAtS;
    this.endAt[this.size] = Number.POSITIVE_INFINITY;
    this.podRevision[this.size] = revision;
    this.size++;
  }

  /** Removes pod `i`, closing up the table. */
  remove(i: number): void {
    this.load.copyWithin(i, i + 1, this.size);
    this.readyAt.copyWithin(i, i + 1, this.size);
    this.endAt.copyWithin(i, i + 1, this.size);
    this.podRevision.copyWithin(i, i + 1, this.size);
    this.size--;
  }

  /** Pods not terminating (what the ReplicaSet counts against `spec.replicas`). */
  active(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.endAt[i] === Number.POSITIVE_INFINITY) n++;
    return n;
  }

  /** Fills {@link Fleet.ready} with the pods serving new connections at `tS`; returns how many. */
  readyPods(tS: number): number {
    let n = 0;
    for (let i = 0; i < this.size; i++)
      if ((this.readyAt[i] as number) <= tS && this.endAt[i] === Number.POSITIVE_INFINITY)
        this.ready[n++] = i;
    return n;
  }

  /**
   * The pod a ReplicaSet deletes first on scale-down, among those not terminating: a pod not
   * yet ready before a ready one, then the most recently ready (the controller's ranking;
   * later rows win ties, i.e. the younger pod). With `oldOnly`, only pods of an older
   * revision than the current one (the old ReplicaSet's). -1 when none.
   */
  victim(oldOnly = false): number {
    let best = -1;
    for (let i = 0; i < this.size; i++)
      if (
        this.endAt[i] === Number.POSITIVE_INFINITY &&
        (!oldOnly || (this.podRevision[i] as number) < this.revision) &&
        (best < 0 || (this.readyAt[i] as number) >= (this.readyAt[best] as number))
      )
        best = i;
    return best;
  }

  /** Connections on every pod (ready, starting or terminating). */
  connections(): number {
    let s = 0;
    for (let i = 0; i < this.size; i++) s += this.load[i] as number;
    return s;
  }

  private grow(): void {
    const n = this.load.length * 2;
    const copy = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.load = copy(this.load);
    this.readyAt = copy(this.readyAt);
    this.endAt = copy(this.endAt);
    this.ready = new Int32Array(n);
    const revisions = new Int32Array(n);
    revisions.set(this.podRevision);
    this.podRevision = revisions;
  }
}

/**
 * Clients whose connection was dropped, waiting to reconnect. A client's attempt k
 * (k = 0, 1, ...) comes after a delay uniform in [0, min(maxDelay, baseDelay x 2^k)) (full
 * jitter), taken in expectation: the dropped amount is spread over the HPA syncs that window
 * covers in proportion to the overlap. An attempt succeeds when a pod is ready (overloaded
 * pods accept connections too); otherwise the amount is rescheduled at attempt k + 1.
 */
export class ReconnectQueue {
  /** Clients waiting, in total. */
  waiting = 0;
  private readonly due: Float64Array[];
  private readonly windows: number[];
  private readonly size: number;

  /**
   * @param tickS the HPA sync period (the simulator's time step), seconds.
   * @param baseDelayS first attempt's jitter window, seconds (> 0).
   * @param maxDelayS largest window, seconds (>= baseDelayS).
   */
  constructor(
    private readonly tickS: number,
    baseDelayS: number,
    maxDelayS: number,
  ) {
    this.windows = [];
    for (let w = baseDelayS; ; w *= 2) {
      this.windows.push(Math.min(w, maxDelayS));
      if (w >= maxDelayS) break;
    }
    this.size = Math.ceil(maxDelayS / tickS) + 2;
    this.due = this.windows.map(() => new Float64Array(this.size));
  }

  /** Schedules `amount` clients dropped at tick `tick` for attempt `attempt`. */
  schedule(tick: number, amount: number, attempt = 0): void {
    if (!(amount > 0)) return;
    const k = Math.min(attempt, this.windows.length - 1);
    const w = this.windows[k] as number;
    const ring = this.due[k] as Float64Array;
    // The attempt at time d after the drop is handled by sync ceil(d / tick): sync j takes
    // the part of [0, w) inside ((j - 1) tick, j tick].
    for (let j = 1; (j - 1) * this.tickS < w; j++) {
      const share = (Math.min(w, j * this.tickS) - (j - 1) * this.tickS) / w;
      const slot = (tick + j) % this.size;
      ring[slot] = (ring[slot] as number) + amount * share;
    }
    this.waiting += amount;
  }

  /**
   * Takes the clients due at `tick`. With `canConnect` false they are rescheduled at their
   * next attempt and 0 is returned; else their number is returned.
   */
  take(tick: number, canConnect: boolean): number {
    const slot = tick % this.size;
    let total = 0;
    for (let k = 0; k < this.due.length; k++) {
      const ring = this.due[k] as Float64Array;
      const amount = ring[slot] as number;
      if (amount === 0) continue;
      ring[slot] = 0;
      this.waiting -= amount;
      if (canConnect) total += amount;
      else this.schedule(tick, amount, k + 1);
    }
    if (this.waiting < 1e-9) this.waiting = Math.max(0, this.waiting);
    return total;
  }

  /** Removes `amount` waiting clients (they gave up: demand fell), proportionally. */
  cancel(amount: number): void {
    if (!(amount > 0) || !(this.waiting > 0)) return;
    const keep = Math.max(0, 1 - amount / this.waiting);
    for (const ring of this.due)
      for (let i = 0; i < ring.length; i++) ring[i] = (ring[i] as number) * keep;
    this.waiting *= keep;
  }
}

/**
 * Node capacity in pods, as a cluster autoscaler gives it: the most pods the fleet had at any
 * sync in the trailing `idleSeconds` (nodes emptier than that have been removed), at least
 * `floor` (the nodes minReplicas always keeps). A pod created beyond it waits for a new node.
 */
export class NodeSlots {
  private readonly times: number[] = [];
  private readonly counts: number[] = [];
  private head = 0;

  constructor(
    private readonly idleSeconds: number,
    private floor: number,
  ) {}

  /** Pods the nodes hold at `tS` (before this sync's new pods). */
  capacity(tS: number): number {
    while (
      this.head < this.times.length &&
      (this.times[this.head] as number) <= tS - this.idleSeconds
    )
      this.head++;
    if (this.head > 4096) {
      this.times.splice(0, this.head);
      this.counts.splice(0, this.head);
      this.head = 0;
    }
    return this.head < this.counts.length
      ? Math.max(this.floor, this.counts[this.head] as number)
      : this.floor;
  }

  /** Records the pods at `tS` (a monotonic deque: the front is the window's maximum). */
  record(tS: number, pods: number): void {
    if (this.idleSeconds === Number.POSITIVE_INFINITY) {
      this.floor = Math.max(this.floor, pods);
      return;
    }
    while (
      this.counts.length > this.head &&
      (this.counts[this.counts.length - 1] as number) <= pods
    ) {
      this.counts.pop();
      this.times.pop();
    }
    this.times.push(tS);
    this.counts.push(pods);
  }
}
