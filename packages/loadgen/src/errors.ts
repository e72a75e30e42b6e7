/**
 * Thrown by {@link createLoadGenerator}, {@link loadTrace} and {@link flightsTrace} for bad
 * input, at construction and never later. `field` names the offending option path (for
 * example `limits.maxConcurrent`), and the message starts with it.
 */
export class LoadgenConfigError extends TypeError {
  /** The option path the error is about, e.g. `session.messageBytes` or `url`. */
  readonly field: string;
  /**
   * @param field - The option path, e.g. `limits.maxConcurrent`.
   * @param message - What is wrong, read after the field: `must be a positive integer`.
   */
  constructor(field: string, message: string) {
    super(`${field} ${message}`);
    this.name = 'LoadgenConfigError';
    this.field = field;
  }
}
