/**
 * The nowcaster as the simulator calls it: the shared contract's `LeadingSignals` and
 * `Nowcaster`, from `src/nowcast/` (structural types: any object with an `observe` of this
 * shape works, e.g. a test double).
 */
export type { LeadingSignals, Nowcaster } from '../nowcast/nowcast.js';
