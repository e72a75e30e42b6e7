/** Errors the CLI reports as one line on stderr, and their exit codes. */

/** Name printed in front of every error line. */
export const PROGRAM = 'tidewatch-predictor';

/** Exit code for bad input (file, values, history) and failed runs. */
export const EXIT_FAILURE = 1;
/** Exit code for usage errors (unknown option, missing argument), as is conventional. */
export const EXIT_USAGE = 2;

/** An expected failure: reported as `tidewatch-predictor: <message>` without a stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
  /** @param exitCode process exit code; default {@link EXIT_FAILURE}. */
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILURE,
  ) {
    super(message);
  }
}

/**
 * The single stderr line for `error`: the program name and the message with any line breaks
 * folded, so scripts can rely on exactly one line. Non-Error values are stringified.
 */
export function errorLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `${PROGRAM}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`;
}
