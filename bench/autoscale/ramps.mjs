// How much sooner capacity is ready than with reactive scaling (the contract's
// `capacityReadyLeadSeconds: { median, p10, ramps }`), from the simulator's per-sync arrays.
//
// A ramp: demand crossing a multiple L of one pod's capacity (100 %, 500 connections) upward,
// having been at or below L - one pod's capacity within the previous 30 minutes (a real rise,
// not demand wobbling around a level). For each policy, capacity is "ready for the ramp" at
// the start of the unbroken stretch of ready capacity >= L that covers the crossing (looked
// for at most 30 minutes back), or, when capacity < L at the crossing, at the first sync after
// it where capacity >= L (looked for at most 2 hours on; a ramp no policy ever covers is left
// out). Lead = reactive's ready time - the policy's, seconds: > 0 is sooner.
//
// The 30-minute look-back caps what a ramp can show: capacity kept up for longer (the 30-minute
// scale-down window holds plenty) counts as ready 30 minutes early. A ramp that both policies
// had covered for the whole look-back says nothing about either and is left out; `ramps`
// counts the ramps kept.

const LOOKBACK_S = 1800;
const LOOKAHEAD_S = 7200;

/** Upward crossings: [{ i, level }] on the per-sync grid. */
export function findRamps(trace, capacityPerReplica) {
  const { timeS, demand } = trace;
  const out = [];
  const c = capacityPerReplica;
  // Lowest demand over the trailing 30 minutes, by a monotone deque.
  const dq = new Int32Array(demand.length);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < demand.length; i++) {
    while (tail > head && demand[dq[tail - 1]] >= demand[i]) tail--;
    dq[tail++] = i;
    while (timeS[dq[head]] < timeS[i] - LOOKBACK_S) head++;
    if (i === 0) continue;
    const lo = demand[dq[head]];
    const a = demand[i - 1];
    const b = demand[i];
    if (!(b > a)) continue;
    for (let m = Math.floor(a / c) + 1; m * c <= b; m++)
      if (lo <= (m - 1) * c) out.push({ i, level: m * c });
  }
  return out;
}

/**
 * Time (s) at which `trace`'s capacity is ready for `ramp` (NaN: not within the look-ahead),
 * and whether it hit the look-back cap.
 */
export function readyTime(trace, ramp) {
  const { timeS, capacity } = trace;
  const t0 = timeS[ramp.i];
  let j = ramp.i;
  if (capacity[j] >= ramp.level) {
    while (j > 0 && capacity[j - 1] >= ramp.level && timeS[j - 1] >= t0 - LOOKBACK_S) j--;
    const capped = j === 0 || (capacity[j - 1] >= ramp.level && timeS[j - 1] < t0 - LOOKBACK_S);
    return { time: timeS[j], capped };
  }
  while (j < capacity.length && timeS[j] <= t0 + LOOKAHEAD_S) {
    if (capacity[j] >= ramp.level) return { time: timeS[j], capped: false };
    j++;
  }
  return { time: Number.NaN, capped: false };
}

function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Capacity-ready lead of `policy` over `reactive` (same demand, same sync grid).
 * @returns {{ median, p10, ramps, lateShare }} seconds; lateShare: share of ramps where the
 *   policy's capacity came after the demand (capacity < L at the crossing)
 */
export function capacityReadyLead(reactive, policy, capacityPerReplica) {
  if (reactive.timeS.length !== policy.timeS.length)
    throw new Error('capacityReadyLead: the two runs have different sync grids');
  const ramps = findRamps(reactive, capacityPerReplica);
  const leads = [];
  let late = 0;
  for (const r of ramps) {
    const a = readyTime(reactive, r);
    const b = readyTime(policy, r);
    if (!Number.isFinite(a.time) || !Number.isFinite(b.time) || (a.capped && b.capped)) continue;
    leads.push(a.time - b.time);
    if (b.time > reactive.timeS[r.i]) late++;
  }
  leads.sort((x, y) => x - y);
  return {
    median: quantile(leads, 0.5),
    p10: quantile(leads, 0.1),
    ramps: leads.length,
    lateShare: leads.length > 0 ? late / leads.length : Number.NaN,
  };
}

/** Share of ramps on which reactive capacity came after the demand, and its median delay (s). */
export function reactiveDelay(reactive, capacityPerReplica) {
  const ramps = findRamps(reactive, capacityPerReplica);
  const delays = [];
  for (const r of ramps) {
    const a = readyTime(reactive, r);
    if (Number.isFinite(a.time) && !a.capped) delays.push(a.time - reactive.timeS[r.i]);
  }
  delays.sort((x, y) => x - y);
  return { median: quantile(delays, 0.5), p90: quantile(delays, 0.9), ramps: delays.length };
}
