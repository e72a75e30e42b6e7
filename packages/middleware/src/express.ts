/**
 * `@tidewatch/middleware/express`: filled by issue 3 (every realtime transport).
 * @packageDocumentation
 */
export {};
