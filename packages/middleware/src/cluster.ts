/**
 * `@tidewatch/middleware/cluster`: filled by issue 3 (every realtime transport).
 * @packageDocumentation
 */
export {};
