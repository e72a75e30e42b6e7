/** Stable error codes thrown by tidewatch; match on `error.code`, never on the message. */
export const ErrorCodes = {
  /** An option has the wrong type or an out-of-range value. */
  INVALID_OPTION: 'TW_ERR_INVALID_OPTION',
  /** A metric name is already taken in the registry by a metric tidewatch does not own. */
  NAME_CONFLICT: 'TW_ERR_NAME_CONFLICT',
  /** The server is already instrumented by another metrics instance. */
  ALREADY_INSTRUMENTED: 'TW_ERR_ALREADY_INSTRUMENTED',
} as const;

/** One of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/**
 * Thrown only at construction (`createRealtimeMetrics`, `instrumentWs`, `metricsHandler`)
 * for bad configuration. `option` names the offending option path, e.g. `heartbeat.intervalMs`.
 */
export class TidewatchConfigError extends TypeError {
  readonly code: ErrorCode;
  readonly option: string;
  constructor(option: string, message: string, code: ErrorCode = ErrorCodes.INVALID_OPTION) {
    super(`tidewatch: option "${option}" ${message}`);
    this.name = 'TidewatchConfigError';
    this.code = code;
    this.option = option;
  }
}
