/**
 * A short-horizon nowcast of connections from leading signals, for the load no seasonal
 * forecast has seen: a flash crowd, a reconnect storm after a pod is lost.
 *
 * Why these signals. Connections are a level: by the time the fleet total shows a surge the
 * surge has happened. Handshakes are a flow: a crowd arriving shows up in the handshake rate
 * at once, a full lead time before the level it builds. Abnormal closes are a promise: a
 * client cut off by a lost pod or a proxy reconnects within seconds (backoff and jitter), so
 * every such close is load that is about to arrive again, not load that left.
 *
 * The model, per observation:
 * 1. Reconnect debt. Abnormal closes above their own slow baseline (clients drop all the time
 *    on mobile networks; only the excess is a wave) are booked as clients expected back.
 *    Handshakes above the baseline handshake rate repay that debt first, oldest first; debt
 *    not repaid within `reconnectWindowSeconds` is written off (those clients are gone).
 *    Repaid handshakes are returning clients, not a crowd: they are taken out of the rate the
 *    arrival estimate reads, otherwise a reconnect storm of 300 clients in 15 s would be
 *    extrapolated as 20 new clients per second for the whole lead time.
 * 2. Arrivals. The remaining ("new") handshake rate feeds two exponentially weighted means
 *    with time constants (time-based, so irregular scrape intervals weigh correctly): a short
 *    one (what is happening now) and a long one (the baseline, which a seasonal ramp drags
 *    along and a few-minute surge does not). In a steady fleet handshakes equal closes, so
 *    the long mean stands in for the close rate and short minus long is the net inflow of a
 *    wave. It counts only above a relative margin (`surgeRatio`) and an absolute floor
 *    (`minExcessPerSecond`), only once it has held for `sustainSeconds` (one noisy minute or
 *    one large client reconnecting is not a wave), and only when the wave adds at least
 *    `minArrivalShare` of the connections and `minArrivalConnections` within the lead time: with the shipped HPA, which
 *    holds every spike of a metric for its 30-minute scale-down stabilisation, each false
 *    alarm costs half an hour of extra pods, while a flash crowd (x3 within 5 minutes) adds
 *    the whole fleet again within the lead time and clears any such floor by far.
 * 3. Extrapolation. Connections at now + lead = connections + debt outstanding + net inflow x
 *    lead: linear, because a crowd that is still arriving at the end of the lead time is the
 *    next nowcast's business and a linear guess errs low rather than high. Bounded by
 *    `maxMultiplier` x (connections + debt) so one burst cannot ask for the whole cluster.
 * 4. What the forecast already expects. A daily ramp is in the forecast, a flash crowd is
 *    not. When the caller passes `expected` (the load the published forecast already provides
 *    capacity for at now + lead), the nowcast is measured against max(connections, expected):
 *    if the plan covers the extrapolation, the nowcast adds nothing and stays quiet.
 * 5. Hysteresis and decay. The nowcast starts only when what it adds over that reference
 *    clears both `minExtraConnections` and `minExtraShare` of the connections, and then stops
 *    only when it falls below `releaseRatio` of that floor. While firing, the published level
 *    never falls faster than `decaySeconds` (an exponential on the level), so the signal does
 *    not flap between scrapes; as the connections catch up with it the excess goes and it
 *    stops.
 *
 * Scale-up only: the nowcast is a floor for the published load (the sidecar publishes
 * max(plan, nowcast)), never a reason to shrink, and NaN when it adds nothing.
 */
import { type NowcastOptions, resolveNowcastOptions } from './options.js';

/** What the middleware's metrics show at one instant (fleet totals), as the simulator and the sidecar observe them. */
export interface LeadingSignals {
  /** Seconds, increasing. */
  timeS: number;
  /** Open connections, fleet total (sum of realtime_connections). */
  connections: number;
  /** Successful handshakes per second since the previous observation (new + reconnecting clients). */
  handshakesPerSecond: number;
  /** Closes that are not clean (a pod lost, a proxy cut) per second since the previous observation. */
  abnormalClosesPerSecond: number;
  /** Ready pods. Not used by the estimate (a fleet total); kept for callers and future use. */
  readyPods: number;
  /**
   * Optional: the connections the published forecast already provides capacity for at
   * timeS + lead (the sidecar's plan, the simulator's predictive signal). When finite and
   * >= 0 the nowcast counts only what it adds above max(connections, expected), so a ramp the
   * forecast foresaw never fires it. Absent, NaN or negative: judged against the connections
   * alone.
   */
  expected?: number;
}

/** A short-horizon nowcast of the connections the fleet needs capacity for. */
export interface Nowcaster {
  /**
   * Feeds one observation; returns the connections the fleet should have capacity for at
   * timeS + leadSeconds, or NaN when the nowcast adds nothing (no wave under way). Scale-up
   * only: never a reason to shrink.
   */
  observe(s: LeadingSignals): number;
}

/** Why the nowcast fires (or `quiet` when it does not). */
export type NowcastReason =
  | 'quiet'
  | 'arrivals'
  | 'reconnects'
  | 'arrivals+reconnects'
  | 'decaying';

/** The nowcaster's view after the latest observation (for status pages and logs). */
export interface NowcastState {
  /** The nowcast is firing: `load` is published. */
  active: boolean;
  /** The nowcast in connections, NaN when not active. */
  load: number;
  /** Why it fires. */
  reason: NowcastReason;
  /** Short-window rate of new (not returning) handshakes, per second. */
  shortRatePerSecond: number;
  /** Long-window (baseline) rate of new handshakes, per second. */
  baselineRatePerSecond: number;
  /** Net inflow of new clients counted in the nowcast, per second (0 when below the margins). */
  excessRatePerSecond: number;
  /** Clients closed abnormally and not back yet (expected within the reconnect window). */
  pendingReconnects: number;
}

/** A {@link Nowcaster} that also shows its reasoning. */
export interface InspectableNowcaster extends Nowcaster {
  /** The state after the latest observation. */
  state(): NowcastState;
}

/** At most this many reconnect-debt buckets are kept (older ones merge): bounded memory. */
const MAX_BUCKETS = 256;

/**
 * Creates a nowcaster (see the module comment for the model).
 * Observations with a time not after the previous one, or with a non-finite or negative
 * figure, are ignored: the previous answer is returned and nothing is updated.
 * @throws OptionError naming the field for a missing or out-of-range option.
 */
export function createNowcaster(options: NowcastOptions): InspectableNowcaster {
  const o = resolveNowcastOptions(options);
  let started = false;
  let lastTimeS = 0;
  let shortRate = 0;
  let baseline = 0;
  let abnormalBaseline = 0;
  // Reconnect debt: clients closed abnormally at `timeS`, not back yet (oldest first).
  const debt: { timeS: number; clients: number }[] = [];
  let active = false;
  let level = Number.NaN;
  // When the arrival excess started to clear the margins (undefined while it does not).
  let surgingSinceS: number | undefined;
  let state: NowcastState = quiet(0, 0, 0);

  function pending(): number {
    let sum = 0;
    for (const b of debt) sum += b.clients;
    return sum;
  }

  /** Repays up to `clients` returning clients, oldest debt first; returns how many. */
  function repay(clients: number): number {
    let left = clients;
    while (left > 0 && debt.length > 0) {
      const b = debt[0] as { timeS: number; clients: number };
      const take = Math.min(left, b.clients);
      b.clients -= take;
      left -= take;
      if (b.clients <= 0) debt.shift();
    }
    return clients - left;
  }

  function observe(s: LeadingSignals): number {
    if (!valid(s) || (started && s.timeS <= lastTimeS)) return active ? level : Number.NaN;
    const h = s.handshakesPerSecond;
    const a = s.abnormalClosesPerSecond;
    const c = s.connections;
    if (!started) {
      // No history: the first observation is the baseline. A sidecar that starts in the
      // middle of a surge learns it as normal and leaves it to the planner.
      started = true;
      lastTimeS = s.timeS;
      shortRate = h;
      baseline = h;
      abnormalBaseline = a;
      state = quiet(h, h, 0);
      return Number.NaN;
    }
    const dt = s.timeS - lastTimeS;
    lastTimeS = s.timeS;

    // 1. Book the excess abnormal closes of this interval as clients expected back, repay
    //    debt with the handshakes above the baseline, write off what is too old.
    const closedExcess = Math.max(0, a - abnormalBaseline) * dt;
    if (closedExcess > 0) debt.push({ timeS: s.timeS, clients: closedExcess });
    if (debt.length > MAX_BUCKETS) {
      const [first, second] = debt.splice(0, 2) as [(typeof debt)[0], (typeof debt)[0]];
      debt.unshift({ timeS: second.timeS, clients: first.clients + second.clients });
    }
    const returned = repay(Math.max(0, h - baseline) * dt);
    while (
      debt.length > 0 &&
      (debt[0] as { timeS: number }).timeS <= s.timeS - o.reconnectWindowSeconds
    )
      debt.shift();
    const newRate = h - returned / dt;

    // 2. Short and long means of the new-handshake rate; the excess is judged against the
    //    baseline as it stood before this observation.
    shortRate += (newRate - shortRate) * (1 - Math.exp(-dt / o.shortWindowSeconds));
    const excess = shortRate - baseline;
    const surging =
      excess >= o.minExcessPerSecond && excess > 0 && shortRate >= baseline * (1 + o.surgeRatio);
    if (!surging) surgingSinceS = undefined;
    else if (surgingSinceS === undefined) surgingSinceS = s.timeS;
    // A wave is sustained excess that adds a real share of the fleet within the lead time.
    // Once firing, the share is held to `releaseRatio` of it (hysteresis): as a crowd arrives
    // the connections grow, and the wave must not stop counting halfway up its own ramp.
    const arrivalFloor =
      Math.max(o.minArrivalConnections, o.minArrivalShare * c) * (active ? o.releaseRatio : 1);
    const wave =
      surging &&
      s.timeS - (surgingSinceS as number) >= o.sustainSeconds &&
      excess * o.leadSeconds >= arrivalFloor;
    const before = baseline;
    baseline += (newRate - baseline) * (1 - Math.exp(-dt / o.longWindowSeconds));
    abnormalBaseline += (a - abnormalBaseline) * (1 - Math.exp(-dt / o.longWindowSeconds));

    // 3. Extrapolate to now + lead, bounded.
    const owed = pending();
    const arriving = wave ? excess * o.leadSeconds : 0;
    const extra = arriving + owed;
    const cap = o.maxMultiplier * Math.max(c + owed, o.minExtraConnections);
    const candidate = Math.min(c + extra, cap);

    // 4. Against what the forecast already provides for (or the connections alone).
    const e = s.expected;
    const reference = typeof e === 'number' && Number.isFinite(e) && e > c ? e : c;

    // 5. Hysteresis on what the nowcast adds; the level decays, never drops.
    const floor = Math.max(o.minExtraConnections, o.minExtraShare * c);
    if (!active) {
      if (extra >= floor && candidate - reference >= floor) {
        active = true;
        level = candidate;
      }
    } else {
      const decayed = level * Math.exp(-dt / o.decaySeconds);
      level = Math.min(Math.max(candidate, decayed), cap);
      if (level - reference < o.releaseRatio * floor) active = false;
    }
    if (!active) level = Number.NaN;

    const reason: NowcastReason = !active
      ? 'quiet'
      : arriving > 0 && owed > 0
        ? 'arrivals+reconnects'
        : arriving > 0
          ? 'arrivals'
          : owed > 0
            ? 'reconnects'
            : 'decaying';
    state = {
      active,
      load: level,
      reason,
      shortRatePerSecond: shortRate,
      baselineRatePerSecond: before,
      excessRatePerSecond: wave ? excess : 0,
      pendingReconnects: owed,
    };
    return level;
  }

  return { observe, state: () => ({ ...state }) };
}

function valid(s: LeadingSignals): boolean {
  return (
    typeof s === 'object' &&
    s !== null &&
    Number.isFinite(s.timeS) &&
    [s.connections, s.handshakesPerSecond, s.abnormalClosesPerSecond].every(
      (v) => Number.isFinite(v) && v >= 0,
    )
  );
}

function quiet(shortRate: number, baseline: number, owed: number): NowcastState {
  return {
    active: false,
    load: Number.NaN,
    reason: 'quiet',
    shortRatePerSecond: shortRate,
    baselineRatePerSecond: baseline,
    excessRatePerSecond: 0,
    pendingReconnects: owed,
  };
}
