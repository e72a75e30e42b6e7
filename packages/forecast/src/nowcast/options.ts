/**
 * The nowcaster's options, checked in one place with the library's option helpers so every
 * failure is an {@link OptionError} naming the field (`createNowcaster: leadSeconds must be a
 * finite number > 0, got 0`).
 */
import { numberOption, OptionError } from '../options.js';

const OWNER = 'createNowcaster';

/**
 * Options of {@link createNowcaster}. Only `leadSeconds` is required; the defaults suit a fleet
 * scraped every 5 to 60 seconds.
 */
export interface NowcastOptions {
  /**
   * How far ahead the nowcast looks, seconds: the time new capacity needs from the decision
   * until it serves (the planner's lead time). Required, > 0.
   */
  leadSeconds: number;
  /** Time constant of the short (recent) handshake rate, seconds. Default 30. */
  shortWindowSeconds?: number;
  /**
   * Time constant of the long (baseline) handshake rate, seconds; must be above
   * `shortWindowSeconds`. Default 600: a seasonal ramp moves the baseline along with it, a
   * surge over a few minutes does not.
   */
  longWindowSeconds?: number;
  /**
   * Relative margin: new arrivals count only while the short rate exceeds the baseline by more
   * than this share of it (0.5 = the short rate is above 1.5 x the baseline). Default 0.5.
   */
  surgeRatio?: number;
  /**
   * Absolute floor on the excess arrival rate (short minus baseline), handshakes per second, so
   * a handful of clients at low load is not a surge. Default 1.
   */
  minExcessPerSecond?: number;
  /**
   * The arrival excess counts only once it has cleared the margins for this long, seconds
   * (>= 0; 0 = at the first observation). Default 30: at a 15 s scrape the third observation
   * of a wave, so one noisy observation (one group of clients arriving at once) is not
   * extrapolated over the lead time. Chosen on the benchmark's tuning traces (LAX, PHX; see
   * docs/benchmarks.md#autoscale): 60 s cost 1-1.4 points less replica-hours but cut the x3
   * flash crowds' overloaded pod-minutes by 47 % instead of 73 %.
   */
  sustainSeconds?: number;
  /**
   * The arrival excess counts only when it adds at least this share of the current
   * connections within the lead time (excess rate x leadSeconds >= share x connections).
   * Default 0.4: a daily ramp adds a few per cent per lead time, a x3 flash crowd within
   * 5 minutes adds about 100 % within a 150 s lead.
   */
  minArrivalShare?: number;
  /**
   * ... and at least this many connections within the lead time. Default 1000 (about three
   * pods at 350 connections each): at low load one client group arriving at once is a large
   * share of the fleet, the fleet's headroom and the actual-load trigger absorb it, and a false
   * alarm still holds pods for the HPA's whole scale-down stabilisation window.
   */
  minArrivalConnections?: number;
  /** The nowcast fires only when it adds at least this many connections. Default 50. */
  minExtraConnections?: number;
  /**
   * ... and at least this share of the current connections (0.05 = 5 %). Default 0.05: a
   * pod lost out of 20 or fewer fires, the loss of one pod in 40 is left to the fleet.
   */
  minExtraShare?: number;
  /**
   * Hysteresis: once firing, the nowcast stops when what it adds falls below this share of
   * the firing floor. In (0, 1]. Default 0.5.
   */
  releaseRatio?: number;
  /**
   * Clients closed abnormally are expected back within this many seconds (reconnect with
   * backoff); those not back by then are taken as gone. Default 60.
   */
  reconnectWindowSeconds?: number;
  /**
   * Time constant at which the published level falls once the wave stops rising, seconds, so
   * the signal does not flap between samples. Default 60.
   */
  decaySeconds?: number;
  /**
   * The nowcast never exceeds this multiple of the connections (current plus those expected
   * back): a bound on extrapolating a burst. >= 1. Default 4.
   */
  maxMultiplier?: number;
}

/** {@link NowcastOptions} with every default filled in. */
export type ResolvedNowcastOptions = Required<NowcastOptions>;

/**
 * Checks the options and fills in the defaults.
 * @throws OptionError naming the field for a missing or out-of-range option.
 */
export function resolveNowcastOptions(options: NowcastOptions): ResolvedNowcastOptions {
  if (typeof options !== 'object' || options === null)
    throw new OptionError(OWNER, 'options', 'an object', options);
  const positive = (field: keyof NowcastOptions, def: number, unit = '') =>
    numberOption(OWNER, field, options[field], { default: def, min: 0, exclusive: true, unit });
  const leadSeconds = positive('leadSeconds', NaN, 'seconds');
  if (Number.isNaN(leadSeconds))
    throw new OptionError(OWNER, 'leadSeconds', 'a finite number > 0 (seconds)', undefined);
  const shortWindowSeconds = positive('shortWindowSeconds', 30, 'seconds');
  const longWindowSeconds = positive('longWindowSeconds', 600, 'seconds');
  if (longWindowSeconds <= shortWindowSeconds)
    throw new OptionError(
      OWNER,
      'longWindowSeconds',
      `above shortWindowSeconds (${shortWindowSeconds})`,
      longWindowSeconds,
    );
  const releaseRatio = positive('releaseRatio', 0.5);
  if (releaseRatio > 1) throw new OptionError(OWNER, 'releaseRatio', 'in (0, 1]', releaseRatio);
  const maxMultiplier = numberOption(OWNER, 'maxMultiplier', options.maxMultiplier, {
    default: 4,
    min: 1,
  });
  return {
    leadSeconds,
    shortWindowSeconds,
    longWindowSeconds,
    surgeRatio: numberOption(OWNER, 'surgeRatio', options.surgeRatio, { default: 0.5, min: 0 }),
    minExcessPerSecond: numberOption(OWNER, 'minExcessPerSecond', options.minExcessPerSecond, {
      default: 1,
      min: 0,
      unit: 'handshakes per second',
    }),
    minExtraConnections: numberOption(OWNER, 'minExtraConnections', options.minExtraConnections, {
      default: 50,
      min: 0,
      unit: 'connections',
    }),
    minExtraShare: numberOption(OWNER, 'minExtraShare', options.minExtraShare, {
      default: 0.05,
      min: 0,
    }),
    sustainSeconds: numberOption(OWNER, 'sustainSeconds', options.sustainSeconds, {
      default: 30,
      min: 0,
      unit: 'seconds',
    }),
    minArrivalShare: numberOption(OWNER, 'minArrivalShare', options.minArrivalShare, {
      default: 0.4,
      min: 0,
    }),
    minArrivalConnections: numberOption(
      OWNER,
      'minArrivalConnections',
      options.minArrivalConnections,
      { default: 1000, min: 0, unit: 'connections' },
    ),
    releaseRatio,
    reconnectWindowSeconds: positive('reconnectWindowSeconds', 60, 'seconds'),
    decaySeconds: positive('decaySeconds', 60, 'seconds'),
    maxMultiplier,
  };
}
