/**
 * `@tidewatch/loadgen`: a trace-driven load generator for realtime servers.
 * @packageDocumentation
 */
export const VERSION = '0.1.0';
