/**
 * A real `redis-server` for a test: on 127.0.0.1, a free port, a fresh temp dir, no
 * persistence; stopped by PID. `kill()` and `restart()` let a test take the broker away
 * and bring it back on the same port.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireBinary } from './binaries.js';
import { freePort } from './free-port.js';

/** Options for {@link startRedis}. */
export interface StartRedisOptions {
  /** How long to wait for it to answer PING. Default 15 000 ms. */
  readyTimeoutMs?: number;
  /** Extra `redis-server` arguments, appended after the defaults. */
  extraArgs?: string[];
}

/** A running Redis. Dispose it (`await using`) or call `stop()`; both are idempotent. */
export interface RedisHandle extends AsyncDisposable {
  /** `redis://127.0.0.1:port` */
  readonly url: string;
  readonly host: '127.0.0.1';
  readonly port: number;
  /** PID of the current process (changes after {@link RedisHandle.restart}). */
  readonly pid: number;
  /** Its working directory; removed by `stop()`. */
  readonly dir: string;
  /** The last lines it logged, for diagnostics. */
  logs(): string;
  /** SIGKILLs it (no shutdown, clients see the connection drop); resolves once it is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill()`); resolves once it answers PING. */
  restart(): Promise<void>;
  /** SIGTERM (SIGKILL after 5 s), then removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const MAX_START_ATTEMPTS = 4;
const LOG_CHARS = 4_000;

/** Instances still running: SIGKILLed with their dirs removed if the test process ends first. */
const live = new Map<ChildProcess, string>();
let exitHookInstalled = false;

function track(child: ChildProcess, dir: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const [c, d] of live) {
        c.kill('SIGKILL');
        try {
          rmSync(d, { recursive: true, force: true });
        } catch {
          // Best effort while the process is going away.
        }
      }
    });
  }
  live.set(child, dir);
  child.once('exit', () => live.delete(child));
}

interface Proc {
  child: ChildProcess;
  log: { text: string };
  exited: Promise<string>;
}

function spawnRedis(bin: string, dir: string, port: number, extra: string[]): Proc {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--protected-mode',
    'yes',
    ...extra,
  ];
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  track(child, dir);
  const log = { text: '' };
  const push = (chunk: string) => {
    log.text = (log.text + chunk).slice(-LOG_CHARS);
  };
  child.stdout?.setEncoding('utf8').on('data', push);
  child.stderr?.setEncoding('utf8').on('data', push);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      push(`spawn error: ${err.message}\n`);
      resolve('spawn error');
    });
    child.once('close', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`));
  });
  return { child, log, exited };
}

/** One PING over a fresh connection: true on `+PONG`. */
function ping(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

/** Waits until `proc` answers PING; 'ready', or why not. */
async function waitReady(proc: Proc, port: number, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  void proc.exited.then((why) => {
    exit = why;
  });
  while (Date.now() < deadline) {
    if (exit !== undefined) return `exited (${exit})`;
    // Another server may hold the port: only our process logs that it is ready.
    if (/Ready to accept connections/.test(proc.log.text) && (await ping(port, 1_000))) {
      return 'ready';
    }
    await sleep(50);
  }
  return exit !== undefined ? `exited (${exit})` : `not ready within ${timeoutMs} ms`;
}

async function terminate(proc: Proc, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  const { child } = proc;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const gone = await Promise.race([
    proc.exited.then(() => true),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
    }),
  ]);
  clearTimeout(timer);
  if (gone) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    return;
  }
  await proc.exited;
}

/**
 * Starts a real `redis-server` (Debian package `redis-server`; `TIDEWATCH_REDIS_SERVER_BIN`
 * overrides) on 127.0.0.1 and a free port, in a fresh temp dir, with `--save ""
 * --appendonly no` (nothing persisted), and waits until it logs "Ready to accept
 * connections" and answers PING. A port taken between probing and binding is retried with
 * a fresh one, up to three times.
 *
 * @throws Error when the binary is missing (the message says how to install it), or it does
 *   not become ready; the message includes the end of its log.
 */
export async function startRedis(options: StartRedisOptions = {}): Promise<RedisHandle> {
  const bin = requireBinary('redis-server');
  const readyTimeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
  const extra = options.extraArgs ?? [];
  const dir = await mkdtemp(join(tmpdir(), 'tidewatch-redis-'));
  let proc: Proc | undefined;
  let port = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      proc = spawnRedis(bin, dir, port, extra);
      const outcome = await waitReady(proc, port, readyTimeoutMs);
      if (outcome === 'ready') break;
      const log = proc.log.text;
      await terminate(proc, 'SIGKILL', STOP_GRACE_MS);
      proc = undefined;
      const taken = /address already in use/i.test(log);
      if (taken && attempt < MAX_START_ATTEMPTS) continue;
      throw new Error(
        `startRedis: ${bin} on 127.0.0.1:${port} ${outcome}${taken ? ` (port taken ${attempt} times)` : ''}.\n` +
          `  last lines of its log:\n${log.trimEnd() || '(empty)'}`,
      );
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let current: Proc = proc!;
  let stopped = false;
  const handle: RedisHandle = {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    get pid() {
      return current.child.pid ?? -1;
    },
    dir,
    logs: () => current.log.text,
    kill: () => terminate(current, 'SIGKILL', STOP_GRACE_MS),
    async restart() {
      if (stopped) throw new Error('startRedis: restart() after stop()');
      await terminate(current, 'SIGKILL', STOP_GRACE_MS);
      current = spawnRedis(bin, dir, port, extra);
      const outcome = await waitReady(current, port, readyTimeoutMs);
      if (outcome !== 'ready') {
        throw new Error(
          `startRedis: restart on 127.0.0.1:${port} ${outcome}.\n  last lines of its log:\n${current.log.text}`,
        );
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await terminate(current, 'SIGTERM', STOP_GRACE_MS);
      await rm(dir, { recursive: true, force: true });
    },
    async [Symbol.asyncDispose]() {
      await handle.stop();
    },
  };
  return handle;
}
