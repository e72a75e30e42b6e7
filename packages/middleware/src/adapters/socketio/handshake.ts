import type { HandshakeOutcome } from '@tidewatch/conventions';
import type { Recorder } from '../../internal/recorder.js';
import { engineErrorOutcome, engineErrorType } from './reasons.js';

/** One engine.io handshake request (no `sid`) between its arrival and engine.io's answer. */
interface EngineHandshake {
  readonly req: object;
  readonly start: number;
  readonly transport: string;
  readonly upgrade: boolean;
  /** The polling response, or the upgrade's TCP socket. */
  readonly target: any;
  readonly onClose: () => void;
}

/** engine.io handshakes carry no `sid`; every later request of a session does. */
const SID_RE = /[?&]sid=/;

/** `endpoint` of handshake outcomes decided before the client named a namespace. */
export const NO_NAMESPACE = 'unknown';

/** A `connection_error` event of an engine.io server. */
export interface ConnectionErrorEvent {
  req?: any;
  code?: unknown;
  context?: unknown;
}

/**
 * The engine.io stage of Socket.IO handshakes: from a handshake request's arrival to
 * engine.io opening a session (the namespace stage then continues the same timing, see
 * `EngineConn.pending`), refusing it through `connection_error`, or the client leaving.
 *
 * Outcomes decided here carry `endpoint="unknown"`: no namespace has been asked for yet.
 * A request answered by something else (an `engine.use()` middleware ending it, e.g. a
 * CORS preflight) counts as `rejected` for 4xx, `error` for 5xx, and not at all for 2xx/3xx.
 */
export class EngineHandshakes {
  /** In flight, by request (`handshakes_in_flight`). */
  readonly pending = new Map<object, EngineHandshake>();
  /** Requests whose outcome is recorded (weak: a request lives as long as its session). */
  private readonly decided = new WeakSet<object>();
  private readonly recorder: Recorder;

  constructor(recorder: Recorder) {
    this.recorder = recorder;
  }

  /** A request reached `engine.handleRequest` / `engine.handleUpgrade`. */
  begin(req: any, target: any, upgrade: boolean): void {
    if (req === null || typeof req !== 'object' || typeof target?.once !== 'function') return;
    const url = req.url;
    if (typeof url !== 'string' || SID_RE.test(url) || req.method === 'OPTIONS') return;
    if (this.pending.has(req)) return;
    const h: EngineHandshake = {
      req,
      start: performance.now(),
      transport: upgrade ? 'socketio_websocket' : 'socketio_polling',
      upgrade,
      target,
      onClose: () => this.onTargetClose(h),
    };
    target.once('close', h.onClose);
    this.pending.set(req, h);
  }

  /**
   * engine.io opened a session for `req`: returns the arrival time and stops tracking;
   * null when its outcome was already recorded (the client left while an async
   * `allowRequest` ran, and engine.io opened the session anyway), undefined when untracked.
   */
  claim(req: unknown): number | null | undefined {
    if (req === null || typeof req !== 'object') return undefined;
    const h = this.pending.get(req);
    if (h === undefined) return this.decided.has(req) ? null : undefined;
    this.end(h);
    return h.start;
  }

  /** engine.io's `connection_error`: counts the error, and ends a tracked handshake. */
  connectionError(ev: ConnectionErrorEvent): void {
    const req = ev?.req;
    const h = req !== null && typeof req === 'object' ? this.pending.get(req) : undefined;
    const upgradeHeader = req?.headers?.upgrade;
    const transport =
      h?.transport ??
      (typeof upgradeHeader === 'string' && upgradeHeader.toLowerCase() === 'websocket'
        ? 'socketio_websocket'
        : 'socketio_polling');
    this.recorder.inc('errors', [transport, engineErrorType(ev?.code)]);
    if (h !== undefined) this.finish(h, engineErrorOutcome(ev.code, ev.context));
  }

  /** Stops tracking everything without recording (detach). */
  clear(): void {
    for (const h of [...this.pending.values()]) this.end(h);
  }

  private onTargetClose(h: EngineHandshake): void {
    if (this.pending.get(h.req) !== h) return;
    let outcome: HandshakeOutcome | null;
    if (h.upgrade) {
      // Something was written on the raw socket (ws refusing the upgrade): the server said no.
      outcome = h.target.bytesWritten > 0 ? 'rejected' : 'aborted';
    } else if (h.target.headersSent) {
      const status = h.target.statusCode;
      outcome = status >= 500 ? 'error' : status >= 400 ? 'rejected' : null;
    } else {
      outcome = 'aborted';
    }
    this.finish(h, outcome);
  }

  private finish(h: EngineHandshake, outcome: HandshakeOutcome | null): void {
    this.end(h);
    this.decided.add(h.req);
    if (outcome === null) return;
    this.recorder.observe(
      'handshakeDuration',
      [h.transport, NO_NAMESPACE, outcome],
      (performance.now() - h.start) / 1000,
    );
  }

  private end(h: EngineHandshake): void {
    this.pending.delete(h.req);
    h.target.removeListener?.('close', h.onClose);
  }
}
