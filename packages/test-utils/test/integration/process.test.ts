import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli, stopStartedProcesses } from '../../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'tw-test-utils-cli-'));
/** Writes a script into the temp dir and returns its path. */
function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

afterAll(async () => {
  await stopStartedProcesses();
  rmSync(dir, { recursive: true, force: true });
});

describe('runCli', () => {
  it('resolves with the exit code and the complete output', async () => {
    const cli = script(
      'echo.mjs',
      `process.stdout.write('out:' + process.argv.slice(2).join(',') + '\\n');
       process.stderr.write('err: ' + process.env.TW_VALUE + '\\n');
       process.exitCode = 3;`,
    );
    expect(await runCli(cli, ['a', 'b c'], { env: { TW_VALUE: 'x' } })).toEqual({
      code: 3,
      stdout: 'out:a,b c\n',
      stderr: 'err: x\n',
    });
  });

  it('kills a run that outlives its timeout and rejects with its output', async () => {
    const cli = script('hang.mjs', `console.log('started'); setInterval(() => {}, 1000);`);
    // Long enough for a node to start and print on a loaded CI machine (300 ms was not):
    // the output is part of what the rejection must carry.
    await expect(runCli(cli, [], { timeoutMs: 4000 })).rejects.toThrow(
      /still running after 4000 ms, killed\nstdout: started\n/,
    );
  });
});

describe('startCli', () => {
  it('waits for a line of output, then for the exit after a signal', async () => {
    const cli = script(
      'serve.mjs',
      `setTimeout(() => console.error(JSON.stringify({ msg: 'listening', port: 1234 })), 50);
       process.on('SIGTERM', () => { console.log('bye'); process.exit(0); });
       setInterval(() => {}, 1000);`,
    );
    const run = startCli(cli, []);
    const port = await run.waitForOutput(({ stderr }) => /"port":(\d+)/.exec(stderr)?.[1], {
      description: 'the port',
    });
    expect(port).toBe('1234');
    run.kill('SIGTERM');
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(await run.result).toEqual({
      code: 0,
      stdout: 'bye\n',
      stderr: '{"msg":"listening","port":1234}\n',
    });
  });

  it('a wait for output fails at once, with the output, when the process exits first', async () => {
    const run = startCli(script('quits.mjs', `console.error('no luck'); process.exit(1);`), []);
    await expect(
      run.waitForOutput(({ stdout }) => stdout.includes('ready'), { description: 'ready' }),
    ).rejects.toThrow(/exited waiting for ready\nstdout: \nstderr: no luck/);
    expect((await run.exited).code).toBe(1);
  });

  it('a wait for output is bounded', async () => {
    await using run = startCli(script('silent.mjs', 'setInterval(() => {}, 1000);'), []);
    await expect(
      run.waitForOutput(({ stdout }) => stdout !== '', { timeoutMs: 200, description: 'a word' }),
    ).rejects.toThrow(/timed out after 200 ms waiting for a word/);
  });

  it('stop() ends a process that ignores SIGTERM with SIGKILL after the grace period', async () => {
    const run = startCli(
      script(
        'stubborn.mjs',
        `process.on('SIGTERM', () => {}); console.log('up'); setInterval(() => {}, 1000);`,
      ),
      [],
    );
    await run.waitForOutput(({ stdout }) => stdout.includes('up'));
    expect(await run.stop(200)).toEqual({ code: null, signal: 'SIGKILL' });
  });
});
