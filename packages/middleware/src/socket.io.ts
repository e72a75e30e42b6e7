/**
 * `@tidewatch/middleware/socket.io`: filled by issue 3 (every realtime transport).
 * @packageDocumentation
 */
export {};
