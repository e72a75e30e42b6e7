/**
 * `@tidewatch/middleware/express`: middleware for Server-Sent Events and long-polling
 * endpoints. Works with express 4/5 and any connect-style router, and with plain
 * `node:http` handlers (`mw(req, res)` before answering). Typed structurally: express is
 * never imported.
 * @packageDocumentation
 */
export type { LongPollOptions, PollOutcome } from './adapters/longpoll/longpoll.js';
export { longPoll } from './adapters/longpoll/longpoll.js';
export type { NextFunction, RealtimeMiddleware } from './adapters/shared/response.js';
export type { SseOptions } from './adapters/sse/sse.js';
export { sse } from './adapters/sse/sse.js';
