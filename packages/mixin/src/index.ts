/**
 * @tidewatch/mixin: Grafana dashboards and Prometheus alert and recording rules for realtime
 * servers, generated from the `@tidewatch/middleware` metric catalogue and one config, in the
 * monitoring-mixin style.
 *
 * @packageDocumentation
 */

/** The package version, so generated files can say what made them. */
export const MIXIN_VERSION = '0.1.0';

export {
  DEFAULT_CONFIG,
  type MixinConfig,
  type MixinConfigInput,
  mixinConfig,
  runbookUrl,
  type Slo,
} from './config.js';
