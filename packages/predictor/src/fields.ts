/**
 * The sidecar's one validation dialect: zod fields whose every message is "must be ...", so the
 * config loader can prefix the field and where its value came from (`config: listen.port`,
 * `TIDEWATCH_PORT`, `--port`) and show the value given. The config schema and every source
 * kind build on these.
 */
import { validate as validCron } from 'node-cron';
import { z } from 'zod';

/** `{ error: 'must be ...' }`: the shape of every message. */
export const must = (what: string) => ({ error: `must be ${what}` });

/** An integer in `[min, max]`; the message shows the range. */
export function int(min: number, max: number, what = `an integer ${min}..${max}`) {
  return z.number(must(what)).int(must(what)).min(min, must(what)).max(max, must(what));
}

/** A finite number > `min` (or >= with `inclusive`). */
export function num(
  min: number,
  inclusive = false,
  what = `a number ${inclusive ? '>=' : '>'} ${min}`,
) {
  const n = z.number(must(what));
  return inclusive ? n.min(min, must(what)) : n.gt(min, must(what));
}

/** A trimmed, non-empty string. */
export const text = (what = 'a non-empty string') => z.string(must(what)).trim().min(1, must(what));

const isHttpUrl = (value: string): boolean => {
  if (!/^https?:\/\/\S+$/.test(value)) return false;
  return URL.canParse(value);
};

/** An http(s) URL. */
export const httpUrl = () =>
  z.string(must('an http(s) URL')).refine(isHttpUrl, must('an http(s) URL'));

/** A node-cron expression (5 or 6 fields). */
export const cron = () =>
  z
    .string(must('a cron expression'))
    .refine(
      (v) => validCron(v),
      must('a cron expression of 5 or 6 fields (seconds first), e.g. "*/15 * * * * *"'),
    );

const TIME_ZONE = 'an IANA time zone, e.g. "Europe/Berlin"';

/** Whether `Intl` (which node-cron schedules with) knows the time zone. */
function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/**
 * An IANA time zone name. Checked with `Intl`, the same check node-cron makes when a job is
 * scheduled, so a bad zone fails at start naming its field instead of later as
 * "Invalid time zone specified".
 */
export const timeZone = () => z.string(must(TIME_ZONE)).trim().refine(isTimeZone, must(TIME_ZONE));

const BEARER_TOKEN = 'a bearer token (visible ASCII characters, no spaces)';

/**
 * A bearer token sent as `Authorization: Bearer ...`. Surrounding white space (the line break
 * a token file ends with) is trimmed; anything else a header cannot carry is refused here,
 * because `fetch` would otherwise reject every request with a message that names no setting.
 */
export const bearerToken = () =>
  z
    .string(must(BEARER_TOKEN))
    .trim()
    .regex(/^[\x21-\x7E]+$/, must(BEARER_TOKEN));

/** Prometheus metric names (also the series' name in the history file). */
export const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

/** Kubernetes object names (namespace, HPA, ScaledObject): DNS subdomain rules. */
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** A Kubernetes object name. */
export const k8sName = () =>
  z
    .string(must('a Kubernetes object name'))
    .max(253, must('a Kubernetes object name'))
    .regex(K8S_NAME, must('a Kubernetes object name (lower case, digits, "-" and ".")'));

/** A value as messages show it: what was given, quoted when it is text. */
export function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * Checks one value outside the config file (a command-line value, a factory option) with a
 * field of this dialect and returns the parsed value. The message has the config loader's
 * shape: `<label> must be ..., got <value>`.
 * @param fail - Makes the error to throw from the message (a `CliError`, a `TypeError`).
 */
export function checkField<T>(
  schema: z.ZodType<T>,
  value: unknown,
  label: string,
  fail: (message: string) => Error,
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw fail(`${label} ${result.error.issues[0]?.message ?? 'is invalid'}, got ${shown(value)}`);
}

/** A positive integer written as text (a flag's value), in `unit`. */
export const positiveIntText = (unit: string) => {
  const what = must(`a positive integer (${unit})`);
  return z
    .string(what)
    .trim()
    .regex(/^\+?\d+$/, what)
    .transform(Number)
    .refine((n) => n >= 1 && Number.isSafeInteger(n), what);
};

/** A positive finite number written as text (a flag's value), in `unit`. */
export const positiveNumberText = (unit: string) => {
  const what = must(`a positive number (${unit})`);
  return z
    .string(what)
    .trim()
    .regex(/^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/, what)
    .transform(Number)
    .refine((n) => n > 0 && Number.isFinite(n), what);
};
