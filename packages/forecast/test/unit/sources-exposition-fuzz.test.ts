/**
 * Fuzzing the exposition parser: random bytes, mutated expositions, truncated lines, huge
 * label values, 200k series, non-numbers, unterminated quotes and 5 MB of pathological text.
 * Whatever comes in, `parseExposition` and `pickMetric` return a value or an `Error` (which
 * the scrape source turns into a SourceError): they never throw and never hang.
 *
 * Seeded (`seededRandom`, mulberry32): the seed is printed; rerun a failure with
 * `FUZZ_SEED=<seed>`. Hangs are bounded by running each parse under `vm`'s `timeout`, which
 * interrupts even a regex stuck backtracking (a vitest timeout cannot interrupt synchronous
 * code); the bound is generous, a hang detector, not a speed assert.
 */
import vm from 'node:vm';
import { seededRandom } from '@tidewatch/test-utils';
import { describe, expect, it } from 'vitest';
import { parseFloatText, pickMetric } from '../../src/sources/exposition.js';

const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32));
console.log(`exposition fuzz seed: ${SEED} (rerun with FUZZ_SEED=${SEED})`);

const random = seededRandom(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;

/** A generous bound on one parse: a hang detector, never reached by a linear parser. */
const HANG_MS = 60_000;

/** What a parse gave: a value, an Error returned, or what it threw (a bug). */
type Outcome = 'value' | 'error' | { threw: unknown };

/** One context for every bounded run (a new one per call would cost more than the parse). */
const sandbox = vm.createContext({ job: () => undefined });
const RUN = new vm.Script('job()');

/** Runs `job` synchronously, terminated (throwing) if it takes longer than `HANG_MS`. */
function bounded<T>(job: () => T): T {
  sandbox.job = job;
  return RUN.runInContext(sandbox, { timeout: HANG_MS }) as T;
}

/** Parses and picks `text` under the hang bound; returns what happened. */
function outcome(text: string, metric = 'realtime_connections'): Outcome {
  return bounded((): Outcome => {
    try {
      // pickMetric parses (parseExposition) and then picks (pickFrom).
      const picked = pickMetric(text, metric);
      if (picked instanceof Error) return 'error';
      for (const s of picked.samples) if (typeof s.value !== 'number') return { threw: s };
      return 'value';
    } catch (threw) {
      return { threw };
    }
  });
}

function expectNoThrow(text: string, what: string): Outcome {
  const got = outcome(text);
  if (typeof got === 'object')
    throw new Error(
      `${what} (seed ${SEED}) threw: ${String((got.threw as Error)?.stack ?? got.threw)}`,
    );
  return got;
}

const VALID = `# HELP realtime_connections Open connections.
# TYPE realtime_connections gauge
realtime_connections{transport="websocket",state="active"} 3
realtime_connections{transport="websocket",state="idle"} 2
# TYPE realtime_message_size_bytes histogram
realtime_message_size_bytes_bucket{direction="in",le="10"} 1
realtime_message_size_bytes_bucket{direction="in",le="+Inf"} 4
realtime_message_size_bytes_sum{direction="in"} 30
realtime_message_size_bytes_count{direction="in"} 4
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1700000000
`;

/** Characters the format cares about, and some it does not. */
const ALPHABET = 'abcxyz_:{}=",\\ \t\n#.+-eE0123456789InfNa\r\u0000\u00e9\u{1f600}TYPEHELP';

function randomText(max: number): string {
  const chars = Array.from(ALPHABET);
  let out = '';
  for (let n = int(max); n > 0; n--) out += pick(chars);
  return out;
}

function mutate(text: string): string {
  const at = int(text.length + 1);
  switch (int(6)) {
    case 0:
      return text.slice(0, at); // truncated mid-line
    case 1:
      return text.slice(0, at) + text.slice(at + 1 + int(20));
    case 2:
      return text.slice(0, at) + randomText(12) + text.slice(at);
    case 3: {
      const lines = text.split('\n');
      lines.splice(int(lines.length), 0, pick(lines));
      return lines.join('\n'); // a repeated line: a duplicate, or a second TYPE
    }
    case 4:
      return text.replace(
        / (\d+)$/m,
        ` ${pick(['NaN', '+Inf', '-Inf', 'Inf', '1e', '--1', '0x10', '', '1.2.3', '١'])}`,
      );
    default:
      return text.slice(0, at) + pick(['"', '{', '}', '\\', '=', '\n']) + text.slice(at);
  }
}

describe('exposition parser fuzz', () => {
  it('random text: a value or an Error, never a throw', () => {
    for (let i = 0; i < 2_000; i++) expectNoThrow(randomText(300), `random text #${i}`);
  });

  it('random bytes decoded as UTF-8: never a throw', () => {
    const decoder = new TextDecoder();
    for (let i = 0; i < 500; i++) {
      const bytes = Uint8Array.from({ length: int(2_000) }, () => int(256));
      expectNoThrow(decoder.decode(bytes), `random bytes #${i}`);
    }
  });

  it('mutated expositions (truncated, spliced, repeated lines, bad numbers): never a throw', () => {
    let text = VALID;
    for (let i = 0; i < 3_000; i++) {
      text = i % 10 === 0 ? VALID : mutate(text);
      expectNoThrow(text, `mutation #${i}`);
    }
  });

  it.each([
    ['NaN', Number.NaN],
    ['+Inf', Number.POSITIVE_INFINITY],
    ['-Inf', Number.NEGATIVE_INFINITY],
    ['1e3', 1000],
    ['.5', 0.5],
  ])('number %s parses as the format says', (text, value) => {
    const picked = pickMetric(`realtime_connections ${text}\n`, 'realtime_connections');
    expect(picked instanceof Error ? picked : picked.samples[0]?.value).toBe(value);
  });

  it.each([['1e'], ['--1'], ['0x10'], ['1.2.3'], ['12abc'], ['inf ity']])(
    'garbage number %j is an Error',
    (text) => {
      expect(pickMetric(`realtime_connections ${text}\n`, 'realtime_connections')).toBeInstanceOf(
        Error,
      );
    },
  );

  it('unterminated quotes, a 1 MB label value, 200k series: answered', () => {
    expect(expectNoThrow('realtime_connections{a="unterminated} 1\n', 'unterminated')).toBe(
      'error',
    );
    expect(expectNoThrow('realtime_connections{a="x\\"} 1\n', 'escaped quote at the end')).toBe(
      'error',
    );
    const huge = 'v'.repeat(1 << 20);
    const picked = pickMetric(`realtime_connections{big="${huge}"} 7\n`, 'realtime_connections');
    expect(picked instanceof Error ? picked : picked.samples[0]?.labels.big?.length).toBe(1 << 20);
    const lines = ['# TYPE realtime_connections gauge'];
    for (let i = 0; i < 200_000; i++) lines.push(`realtime_connections{id="${i}"} 1`);
    const many = pickMetric(lines.join('\n'), 'realtime_connections');
    expect(many instanceof Error ? many : many.samples.length).toBe(200_000);
  });

  it.each([
    ['a 5 MB number', () => `realtime_connections ${'1'.repeat(5 << 20)}x\n`],
    ['5 MB of a number in an exponent', () => `realtime_connections 1e${'9'.repeat(5 << 20)}.\n`],
    ['5 MB of spaces in a TYPE line', () => `# TYPE a${' '.repeat(5 << 20)}b c\n`],
    ['5 MB of "# TYPE" lines', () => '# TYPE x gauge\n'.repeat((5 << 20) / 15)],
    ['5 MB of an unterminated label value', () => `a{b="${'\\"'.repeat(5 << 19)}\n`],
    ['5 MB of opening braces', () => `a${'{'.repeat(5 << 20)}`],
    ['5 MB of one name', () => `${'a'.repeat(5 << 20)} 1\n`],
    ['5 MB of newlines', () => '\n'.repeat(5 << 20)],
    ['5 MB of commas in labels', () => `a{${'b="",'.repeat(5 << 18)}} 1\n`],
  ])(
    '%s: answered within the hang bound',
    (what, make) => {
      expect(['value', 'error']).toContain(expectNoThrow(make(), what));
    },
    2 * HANG_MS,
  );

  it(
    'parseFloatText is linear: 1 MB of digits and a trailing x (a nested quantifier was quadratic)',
    () => {
      const text = `${'1'.repeat(1 << 20)}x`;
      expect(bounded(() => parseFloatText(text))).toBeUndefined();
    },
    2 * HANG_MS,
  );
});
