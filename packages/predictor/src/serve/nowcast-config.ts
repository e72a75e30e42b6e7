/**
 * The `nowcast` block of the sidecar's configuration (kept apart from ./nowcast.ts so the
 * schema module imports nothing of the running sidecar). Every tuning field defaults to the
 * library's default (`NowcastOptions` of `@tidewatch/forecast`, docs/sidecar.md "Nowcast"); the
 * lead time is the planner's. Cross-field rules (the long window above the short one) are the
 * library's: `createNowcaster` checks them at start and the sidecar reports them as a
 * configuration error naming the field.
 */
import { z } from 'zod';
import { must, num } from '../fields.js';

/** `nowcast: { enabled (true), ...tuning }`. */
export const nowcastSchema = z
  .strictObject({
    enabled: z.boolean(must('true or false')).default(true),
    shortWindowSeconds: num(0).optional(),
    longWindowSeconds: num(0).optional(),
    surgeRatio: num(0, true).optional(),
    minExcessPerSecond: num(0, true).optional(),
    sustainSeconds: num(0, true).optional(),
    minArrivalShare: num(0, true).optional(),
    minArrivalConnections: num(0, true).optional(),
    minExtraConnections: num(0, true).optional(),
    minExtraShare: num(0, true).optional(),
    releaseRatio: num(0, false, 'a number in (0, 1]').max(1, must('a number in (0, 1]')).optional(),
    reconnectWindowSeconds: num(0).optional(),
    decaySeconds: num(0).optional(),
    maxMultiplier: num(1, true).optional(),
  })
  .prefault({});
