/**
 * `@tidewatch/middleware/http`: handshake and connection metrics for any `node:http`
 * server's upgrade requests, whatever WebSocket layer answers them.
 * @packageDocumentation
 */
export type {
  InstrumentUpgradeOptions,
  UpgradeInstrumentation,
} from './adapters/upgrade/upgrade.js';
export { instrumentUpgrade } from './adapters/upgrade/upgrade.js';
export type { InstrumentationHandle } from './internal/instrumentation.js';
