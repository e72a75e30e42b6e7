// Process plumbing of the scale benchmarks: children with a raised open-file limit, pinned to
// one core when taskset exists, plus the limits checks that turn a mid-run EMFILE or
// EADDRNOTAVAIL into a clear message before anything starts.
import { fork, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Peer } from '../common/peer.mjs';
import { ROOT } from '../common/resolve.mjs';
import { parseArgs } from '../common/util.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * A scale driver's command line: its flags, parsed (`--help` prints `help` and exits 0), and
 * `fail(message)`, which prints `<name>: message` and exits 1.
 */
export function driverCli(name, help) {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(help);
    process.exit(0);
  }
  const fail = (message) => {
    console.error(`${name}: ${message}`);
    process.exit(1);
  };
  return { args, fail };
}

/** Starts ./server.mjs for `variant` (with --expose-gc, for its `mem` snapshots) on `core`. */
export function spawnServer(variant, core) {
  return spawnChild(`server:${variant}`, path.join(HERE, 'server.mjs'), [`--variant=${variant}`], {
    core,
    execArgv: ['--expose-gc'],
  });
}

/** Starts ./client.mjs against the server on `port`, bounded to `maxSeconds`, on `core`. */
export function spawnClient(name, port, maxSeconds, core) {
  return spawnChild(
    name,
    path.join(HERE, 'client.mjs'),
    [`--url=ws://127.0.0.1:${port}/ws`, `--max-seconds=${maxSeconds}`],
    { core },
  );
}

const taskset = ['/usr/bin/taskset', '/bin/taskset'].find((p) => fs.existsSync(p)) ?? null;
/** True when server and client can be pinned to different cores. */
export const pinned = taskset !== null && os.cpus().length >= 2;

/**
 * The open-file hard limit children get. Node cannot raise RLIMIT_NOFILE itself, and an
 * unprivileged (or capability-less root) shell can raise the soft limit only up to the hard
 * one, so that is what every child is started with.
 */
export function hardFdLimit() {
  const out = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? Number.POSITIVE_INFINITY : Number(out);
}

/** Throws a clear error when `fds` descriptors per process or `ports` client ports won't fit. */
export function checkLimits({ fds, ports }) {
  const hard = hardFdLimit();
  if (!(hard >= fds)) {
    throw new Error(
      `open-file hard limit is ${hard} but one process needs ~${fds}: raise it ` +
        `(\`ulimit -Hn\` as a privileged user, LimitNOFILE= for a service) or use fewer connections`,
    );
  }
  try {
    const [lo, hi] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (hi - lo + 1 < ports) {
      throw new Error(
        `only ${hi - lo + 1} ephemeral ports (net.ipv4.ip_local_port_range ${lo}-${hi}) for ` +
          `${ports} client connections: widen the range or use fewer connections`,
      );
    }
  } catch (err) {
    if (err.code !== 'ENOENT') throw err;
  }
  return hard;
}

/**
 * fork()s `script` through `sh -c 'ulimit -n <hard> && exec [taskset -c core] node …'`. The
 * IPC channel fork() sets up is an inherited fd plus an env var, both of which survive the
 * exec chain.
 */
export function spawnChild(name, script, args, { core, execArgv = [] } = {}) {
  const pin = pinned && core !== undefined ? `${taskset} -c ${core} ` : '';
  const child = fork(script, args, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    execPath: '/bin/sh',
    execArgv: [
      '-c',
      `ulimit -n "$(ulimit -Hn)" && exec ${pin}"$0" "$@"`,
      process.execPath,
      ...execArgv,
    ],
  });
  return new Peer(name, child);
}

/** Asks a child to exit and kills it if it has not within `graceMs`. */
export async function closeChild(peer, graceMs = 3000) {
  if (peer.exitInfo) return;
  peer.request('exit', graceMs).catch(() => {});
  await peer.stop(graceMs);
}
