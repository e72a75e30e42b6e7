#!/usr/bin/env node
// Makes sure the external binaries the integration tests drive are present: `prometheus` and
// `promtool` (Debian package `prometheus`, 2.42 on bookworm) and `chromium` (Debian package
// `chromium`, driven headless by playwright-core for the browser tests) and `redis-server`
// (Debian package `redis-server`, the broker the fan-out tests cross) and `kubectl` (Debian package
// `kubernetes-client`, client-side only: the Grafana page's ConfigMap snippet). Runs first in `npm test`, also on a
// fresh CI machine (CI=true, no stdin), so it installs them with apt-get when it can (root +
// Debian/Ubuntu) and otherwise fails with instructions. Fast and silent-but-one-line when the
// tools are already there. No dependencies: plain Node.
//
// Overrides: TIDEWATCH_PROMETHEUS_BIN / TIDEWATCH_PROMTOOL_BIN / TIDEWATCH_CHROMIUM_BIN /
// TIDEWATCH_REDIS_SERVER_BIN point at specific binaries; when
// set they must be executable and are never "fixed" by installing anything.

import { spawn, spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
} from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Each tool and the Debian package that provides it. */
const PACKAGE_OF = {
  prometheus: 'prometheus',
  promtool: 'prometheus',
  chromium: 'chromium',
  'redis-server': 'redis-server',
  // The Grafana page's ConfigMap snippet is run through kubectl (client-side only, no cluster).
  kubectl: 'kubernetes-client',
};
const TOOLS = Object.keys(PACKAGE_OF);
/** Upper bound for each apt-get step (also covers waiting for the dpkg lock). */
const APT_STEP_TIMEOUT_MS = 10 * 60_000;
const APT_LOCK_TIMEOUT_S = 300;
const HEARTBEAT_MS = 20_000;

const log = (msg) => console.log(`ensure-tools: ${msg}`);

const INSTALL_HELP = [
  'Install Prometheus (server + promtool), Chromium and Redis, then re-run:',
  '  Debian/Ubuntu:  sudo apt-get update && sudo apt-get install -y prometheus chromium redis-server',
  '  Elsewhere:      download Prometheus from https://prometheus.io/download/ and put the',
  '                  `prometheus` and `promtool` binaries on PATH; install a Chromium build',
  '                  and Redis (https://redis.io/download), `redis-server` on PATH',
  '  Or point TIDEWATCH_PROMETHEUS_BIN / TIDEWATCH_PROMTOOL_BIN / TIDEWATCH_CHROMIUM_BIN /',
  '  TIDEWATCH_REDIS_SERVER_BIN / TIDEWATCH_KUBECTL_BIN at them.',
].join('\n');

function fail(msg) {
  console.error(`ensure-tools: ${msg}`);
  process.exit(1);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function envName(tool) {
  return `TIDEWATCH_${tool.toUpperCase().replaceAll('-', '_')}_BIN`;
}

function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Resolves every tool; overrides that point nowhere are fatal (installing would not help). */
function resolveTools() {
  const found = {};
  const missing = [];
  for (const tool of TOOLS) {
    const override = process.env[envName(tool)];
    if (override) {
      if (!isExecutable(override)) {
        fail(`${envName(tool)}=${override} is not an executable file.\n${INSTALL_HELP}`);
      }
      found[tool] = override;
      continue;
    }
    const path = findOnPath(tool);
    if (path) found[tool] = path;
    else missing.push(tool);
  }
  return { found, missing };
}

/** PIDs of running processes whose command name is exactly `name` (Linux /proc; no pgrep needed). */
function pidsNamed(name) {
  const pids = new Set();
  let entries;
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.add(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return pids;
}

function firstLine(text) {
  return text.split('\n').find((line) => line.trim() !== '') ?? '';
}

function versionOf(bin, args = ['--version']) {
  const res = spawnSync(bin, args, { encoding: 'utf8', timeout: 10_000 });
  if (res.error || res.status !== 0) {
    const why = res.error ? res.error.message : firstLine(`${res.stderr}${res.stdout}`);
    fail(`\`${bin} ${args.join(' ')}\` failed: ${why}\n${INSTALL_HELP}`);
  }
  // Prometheus 2.x prints its version banner on stdout; older builds used stderr.
  return firstLine(`${res.stdout}\n${res.stderr}`).trim();
}

/** Runs one apt-get step with output going to `logFile`, bounded in time, with a heartbeat. */
function runApt(args, logStream, label) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    log(`${label} ...`);
    logStream.write(`\n$ apt-get ${args.join(' ')}\n`);
    const child = spawn('apt-get', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.stdout.pipe(logStream, { end: false });
    child.stderr.pipe(logStream, { end: false });
    const heartbeat = setInterval(() => {
      log(`  still running ${label} (${Math.round((Date.now() - started) / 1000)} s)`);
    }, HEARTBEAT_MS);
    const killer = setTimeout(() => {
      child.kill('SIGKILL');
    }, APT_STEP_TIMEOUT_MS);
    child.on('error', (err) => {
      clearInterval(heartbeat);
      clearTimeout(killer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearInterval(heartbeat);
      clearTimeout(killer);
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0) {
        log(`${label} done in ${secs} s`);
        resolve();
      } else {
        const how = signal ? `killed by ${signal} after ${secs} s` : `exit code ${code}`;
        reject(new Error(`apt-get ${args.join(' ')} failed (${how})`));
      }
    });
  });
}

function tail(path, lines) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The Debian package enables and (where an init system lets it) starts a `prometheus` service on
 * :9090. Stop any daemon that appeared during our install; leave pre-existing ones alone.
 */
async function stopDaemonsStartedBy(before) {
  // init scripts daemonise in the background; give a just-forked daemon a moment to show up.
  await sleep(500);
  const fresh = [...pidsNamed('prometheus')].filter((pid) => !before.has(pid));
  if (fresh.length === 0) return;
  log(`stopping the prometheus service the package started (pid ${fresh.join(', ')})`);
  if (existsSync('/run/systemd/system') && findOnPath('systemctl')) {
    spawnSync('systemctl', ['stop', 'prometheus.service'], { stdio: 'ignore', timeout: 30_000 });
  }
  for (const pid of fresh) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone (e.g. systemctl stopped it).
    }
  }
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && fresh.some((pid) => pidsNamed('prometheus').has(pid))) {
    await sleep(100);
  }
  for (const pid of fresh) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited after SIGTERM, as expected.
    }
  }
}

async function install(missing) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const apt = findOnPath('apt-get');
  if (!isRoot || !apt) {
    const why = !apt ? 'apt-get is not available' : 'not running as root';
    fail(
      `${missing.join(' and ')} not found on PATH, and cannot install (${why}).\n${INSTALL_HELP}`,
    );
  }

  const logDir = await mkdtemp(join(tmpdir(), 'tidewatch-ensure-tools-'));
  const logFile = join(logDir, 'apt.log');
  const logStream = createWriteStream(logFile);
  const packages = [...new Set(missing.map((tool) => PACKAGE_OF[tool]))];
  log(
    `${missing.join(' and ')} missing; installing Debian package(s) ${packages.join(', ')} (log: ${logFile})`,
  );

  const before = pidsNamed('prometheus');
  const lock = ['-o', `DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_S}`];
  try {
    await runApt([...lock, '-q', 'update'], logStream, 'apt-get update');
    await runApt(
      [...lock, '-q', 'install', '-y', '--no-install-recommends', ...packages],
      logStream,
      `apt-get install ${packages.join(' ')}`,
    );
  } catch (err) {
    await new Promise((resolve) => logStream.end(resolve));
    await stopDaemonsStartedBy(before);
    fail(`${err.message}. Last lines of ${logFile}:\n${tail(logFile, 25)}\n\n${INSTALL_HELP}`);
  }
  await new Promise((resolve) => logStream.end(resolve));
  await stopDaemonsStartedBy(before);
  await rm(logDir, { recursive: true, force: true });
}

async function main() {
  let { found, missing } = resolveTools();
  if (missing.length > 0) {
    await install(missing);
    ({ found, missing } = resolveTools());
    if (missing.length > 0) {
      fail(`installed, but ${missing.join(' and ')} still not on PATH.\n${INSTALL_HELP}`);
    }
  }
  const promtool = versionOf(found.promtool);
  const prometheus = versionOf(found.prometheus);
  const chromium = versionOf(found.chromium);
  const redis = versionOf(found['redis-server']);
  log(`${promtool} [${found.promtool}]; ${prometheus} [${found.prometheus}]`);
  log(`${chromium} [${found.chromium}]; ${redis} [${found['redis-server']}]`);
  // kubectl has no --version; `version --client` never contacts a cluster.
  log(`kubectl ${versionOf(found.kubectl, ['version', '--client'])} [${found.kubectl}]`);
}

main().catch((err) => fail(err?.stack ?? String(err)));
