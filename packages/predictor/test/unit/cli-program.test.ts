/**
 * The commander layer in-process: usage errors (exit 2), value errors (exit 1) and help, each
 * with exactly one stderr line. Runs that need the worker are covered by the integration test.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli/program.js';

async function cli(...args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough() as PassThrough & NodeJS.WriteStream;
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const code = await run(['node', 'tidewatch-predictor', ...args], { stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('tidewatch-predictor usage', () => {
  it.each([
    [
      ['forecast', '--input', 'x.csv'],
      "tidewatch-predictor: required option '--horizon <steps>' not specified\n",
    ],
    [
      ['backtest', '--horizon', '24'],
      "tidewatch-predictor: required option '--input <file>' not specified\n",
    ],
    [
      ['forecast', '--input', 'x.csv', '--horizon', '24', '--bogus'],
      "tidewatch-predictor: unknown option '--bogus'\n",
    ],
    [
      ['forecast', '--input', 'x.csv', '--horizon', '24', '--output', 'xml'],
      /^tidewatch-predictor: option '--output <format>' argument 'xml' is invalid\. Allowed choices are table, json\.\n$/,
    ],
    [['frobnicate'], /^tidewatch-predictor: unknown command 'frobnicate'\n$/],
    [
      ['backtest', '--input', 'x.csv', '--horizon', '24', 'extra'],
      /^tidewatch-predictor: too many arguments for 'backtest'/,
    ],
  ])('exits 2 with one line for %j', async (args, message) => {
    const r = await cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    if (typeof message === 'string') expect(r.stderr).toBe(message);
    else expect(r.stderr).toMatch(message);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('exits 2 and shows help without a command', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: tidewatch-predictor');
  });

  it('prints help on stdout with exit 0, documenting the added options and models', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('forecast [options]');
    expect(top.stdout).toContain('Models: naive, seasonal-naive-daily');
    const fc = await cli('forecast', '--help');
    for (const flag of [
      '--input <file>',
      '--horizon <steps>',
      '--step <seconds>',
      '--model <name>',
      '--models <list>',
      '--origins <k>',
      '--every <steps>',
      '--time-budget <seconds>',
      '--output <format>',
    ]) {
      expect(fc.stdout).toContain(flag);
    }
  });

  it('exits 1 with one line for bad values, before reading the file', async () => {
    const r = await cli('forecast', '--input', 'x.csv', '--horizon', 'soon');
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'tidewatch-predictor: --horizon must be a positive integer (steps), got "soon"\n',
    });
    const m = await cli('backtest', '--input', 'x.csv', '--horizon', '24', '--models', 'nope');
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/^tidewatch-predictor: unknown model "nope" \(known: [^\n]+\)\n$/);
  });

  it('exits 1 for a missing file', async () => {
    const r = await cli('backtest', '--input', '/nonexistent/load.csv', '--horizon', '24');
    expect(r).toEqual({
      code: 1,
      stdout: '',
      stderr: 'tidewatch-predictor: input file not found: /nonexistent/load.csv\n',
    });
  });
});
