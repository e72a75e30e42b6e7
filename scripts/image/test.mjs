#!/usr/bin/env node
// `npm run test:image`: builds the predictor image from the Dockerfile and runs the sidecar in
// it. Root only (buildah with vfs storage and chroot isolation; CI runs as root). Steps:
//
//   1. the base image (scripts/image/base.mjs; built once per machine, then cached)
//   2. `buildah bud` of ./Dockerfile, tagged ghcr.io/tidewatch/predictor:<predictor version>
//   3. the image's config: numeric non-root USER, tidewatch-predictor entrypoint, `serve` cmd
//   4. in a container of it (`buildah run`, the host's network): `tidewatch-predictor
//      --version`, `id -u`, no devDependency in /app/node_modules, nothing outside /tmp and
//      /var/tmp writable by the sidecar's user
//   5. `tidewatch-predictor serve` in it against a /metrics target on 127.0.0.1 served by this
//      script, seeded from the image's own fixture: /healthz 200, then /readyz 200 (a forecast
//      in force) within a deadline; SIGTERM, and the sidecar stops cleanly. Twice: with
//      `buildah run`, then with the container's root mounted read-only (READ_ONLY_RUN)
//
// Prints the image size (`buildah images`) and the time of each step. Everything it starts is
// stopped, and its container removed, however it ends. Over two minutes (the bud installs
// and builds inside the image), so it runs in .ci/run after `npm test`, not inside it.

import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metricName } from '@tidewatch/conventions';
import { ensureBase } from './base.mjs';
import {
  buildah,
  envVar,
  fail,
  ISOLATION,
  imageConfig,
  imageId,
  log,
  removeReplaced,
  STORAGE,
  secondsSince,
} from './buildah.mjs';

const READY_DEADLINE_MS = 120_000;
const STOP_DEADLINE_MS = 20_000;
const POLL_MS = 250;
const CONNECTIONS = 42;

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const version = readJson('packages/predictor/package.json').version;
const IMAGE = `ghcr.io/tidewatch/predictor:${version}`;

const cleanups = [];
let failed = false;
function check(ok, message) {
  if (!ok) throw new Error(message);
  log(`ok   ${message}`);
}

/** A /metrics target on 127.0.0.1, any free port: the gauge the sidecar forecasts. */
function startTarget() {
  const body = `# TYPE ${metricName('connections')} gauge\n${metricName('connections')} ${CONNECTIONS}\n`;
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'text/plain; version=0.0.4');
    res.end(req.url === '/metrics' ? body : '');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      cleanups.push(() => new Promise((done) => server.close(() => done())));
      resolve(`http://127.0.0.1:${server.address().port}/metrics`);
    });
  });
}

/**
 * DevDependencies of the repo (root and each workspace) that are not in the runtime closure
 * of the predictor: dependencies, optional and required peer dependencies, followed through
 * package-lock.json from the workspaces the image ships.
 */
function devOnlyPackages() {
  const lock = readJson('package-lock.json').packages;
  const resolve = (from, name) => {
    let dir = from;
    for (;;) {
      const candidate = `${dir ? `${dir}/` : ''}node_modules/${name}`;
      if (lock[candidate]) return lock[candidate].link ? lock[candidate].resolved : candidate;
      if (dir === '') return undefined;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up === -1 ? '' : dir.slice(0, up);
    }
  };
  const runtime = new Set();
  const seen = new Set();
  const queue = ['packages/predictor'];
  while (queue.length > 0) {
    const path = queue.pop();
    if (seen.has(path)) continue;
    seen.add(path);
    const entry = lock[path] ?? {};
    const optionalPeers = Object.keys(entry.peerDependenciesMeta ?? {}).filter(
      (name) => entry.peerDependenciesMeta[name].optional,
    );
    const deps = [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter((name) => !optionalPeers.includes(name)),
    ];
    for (const name of deps) {
      runtime.add(name);
      const target = resolve(path, name);
      if (target) queue.push(target);
    }
  }
  const manifests = [readJson('package.json')];
  for (const dir of ['packages', 'examples'])
    for (const name of existsSync(dir) ? readdirSync(dir) : [])
      if (existsSync(join(dir, name, 'package.json')))
        manifests.push(readJson(join(dir, name, 'package.json')));
  const dev = new Set(manifests.flatMap((m) => Object.keys(m.devDependencies ?? {})));
  return [...dev].filter((name) => !runtime.has(name)).sort();
}

/** `buildah bud` of ./Dockerfile as {@link IMAGE}, replacing the previous build. */
function buildImage() {
  const tBud = Date.now();
  const caArgs = [];
  const ca = envVar('NODE_EXTRA_CA_CERTS');
  if (ca && existsSync(ca)) {
    // A TLS-intercepting proxy on this machine: npm in the build stage needs its CA.
    caArgs.push(
      '--build-arg',
      'NODE_EXTRA_CA_CERTS=/tmp/build-ca.pem',
      '--volume',
      `${ca}:/tmp/build-ca.pem:ro`,
    );
  }
  // A failed bud leaves its working containers behind: remove those it made.
  const previous = imageId(IMAGE);
  const containersBefore = new Set(buildah(['containers', '--all', '--quiet']).split('\n'));
  const bud = buildah(
    ['bud', ...ISOLATION, '--build-arg', `VERSION=${version}`, ...caArgs, '-t', IMAGE, '.'],
    { inherit: true, timeoutMs: 20 * 60_000, allowFail: true },
  );
  if (bud.error || bud.status !== 0) {
    for (const id of buildah(['containers', '--all', '--quiet']).split('\n'))
      if (id && !containersBefore.has(id)) buildah(['rm', id], { allowFail: true });
    throw new Error(`buildah bud failed (${bud.error?.message ?? `exit code ${bud.status}`})`);
  }
  removeReplaced(IMAGE, previous);
  log(`bud: ${IMAGE} built in ${secondsSince(tBud)} s`);
}

async function main() {
  const t0 = Date.now();
  const base = ensureBase();
  log(`base: ${base.built ? 'built' : 'cached'} in ${base.seconds} s`);

  // --- build (`--no-build`: test the image already in storage, e.g. after a failed check)
  if (process.argv.includes('--no-build') && imageId(IMAGE))
    log(`bud: skipped, testing the ${IMAGE} in storage`);
  else buildImage();

  // --- the image's config
  const config = imageConfig(IMAGE) ?? {};
  check(config.User === '65532:65532', `image USER is numeric and non-root (${config.User})`);
  check(
    JSON.stringify(config.Entrypoint) === '["tidewatch-predictor"]',
    'entrypoint is tidewatch-predictor',
  );
  check(JSON.stringify(config.Cmd) === '["serve"]', 'default command is serve');
  check(
    config.Labels?.['org.opencontainers.image.version'] === version,
    `version label is ${version}`,
  );

  // --- one container for every check
  const ctr = buildah(['from', '--pull=never', '--quiet', IMAGE]).trim();
  cleanups.push(() => buildah(['rm', ctr], { allowFail: true }));
  const inCtr = (args, options) =>
    buildah(['run', ...ISOLATION, '--network', 'host', ctr, '--', ...args], options);

  const printed = inCtr(['tidewatch-predictor', '--version']).trim();
  check(
    /^\d+\.\d+\.\d+(?:-[\w.]+)?$/.test(printed.split(/\s+/).at(-1) ?? ''),
    `--version prints a semver (${printed})`,
  );
  const uid = inCtr(['id', '-u']).trim();
  check(uid === '65532', `runs as uid ${uid}, not root`);

  const devOnly = devOnlyPackages();
  const present = inCtr([
    'node',
    '-e',
    'const fs=require("fs");console.log(JSON.stringify(process.argv.slice(1).filter((n)=>fs.existsSync("/app/node_modules/"+n))))',
    ...devOnly,
  ]).trim();
  check(
    present === '[]',
    `none of the ${devOnly.length} devDependencies is installed (found: ${present})`,
  );
  check(
    inCtr(['sh', '-c', 'test ! -e /src && echo none']).trim() === 'none',
    'no build stage leftovers (/src)',
  );
  // The sidecar's user can write nowhere but the temp dirs: a read-only root changes nothing.
  const writable = inCtr([
    'sh',
    '-c',
    'find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -writable -print 2>/dev/null | sort',
  ])
    .trim()
    .split('\n')
    .filter(Boolean);
  // /var/lock is a symlink to /run/lock.
  const expected = ['/run/lock', '/tmp', '/var/lock', '/var/tmp'];
  check(
    writable.every((path) => expected.includes(path)),
    `only ${expected.join(', ')} writable by uid 65532 (found: ${writable.join(', ')})`,
  );

  // --- the sidecar, against a loopback target
  const metricsUrl = await startTarget();
  const dir = mkdtempSync(join(tmpdir(), 'tidewatch-image-'));
  // Read by the sidecar's uid 65532 through the bind mount (mkdtemp makes it 0700).
  chmodSync(dir, 0o755);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(sidecarConfig(metricsUrl)));
  await serveAndCheck('buildah run', startSidecar('buildah', buildahRunArgs(ctr, dir)));

  // The same with a read-only root.
  const root = buildah(['mount', ctr]).trim();
  cleanups.push(() => buildah(['umount', ctr], { allowFail: true }));
  mkdirSync(join(root, 'etc/tidewatch'), { recursive: true });
  const env = (config.Env ?? []).filter((v) => !v.startsWith('TIDEWATCH_HOST='));
  const readOnly = startSidecar('unshare', [
    '--mount',
    '--propagation',
    'private',
    '--fork',
    'sh',
    '-c',
    READ_ONLY_RUN,
    'sh',
    root,
    dir,
    '/usr/bin/env',
    '-i',
    ...env,
    ...SERVE,
  ]);
  await serveAndCheck('read-only root', readOnly);

  const size = buildah(['images', '--format', '{{.Size}}', IMAGE]).trim();
  log(
    `image ${IMAGE}: ${size} (base ${buildah(['images', '--format', '{{.Size}}', 'docker.io/library/node:20-bookworm-slim']).trim()})`,
  );
  log(`passed in ${secondsSince(t0)} s`);
}

/** /healthz, /readyz within the deadline, /metrics, then a clean stop on SIGTERM. */
async function serveAndCheck(label, sidecar) {
  const started = Date.now();
  cleanups.push(() => sidecar.stop());
  const url = await sidecar.url;
  const health = await fetch(`${url}/healthz`);
  check(health.status === 200, `${label}: ${url}/healthz answers 200`);
  const ready = await pollReady(url, sidecar);
  check(
    ready.status === 200,
    `${label}: /readyz 200 ${ready.body} after ${secondsSince(started)} s`,
  );
  const metrics = await (await fetch(`${url}/metrics`)).text();
  check(/^tidewatch_forecast\{/m.test(metrics), `${label}: /metrics publishes tidewatch_forecast`);
  const code = await sidecar.stop();
  check(code === 0, `${label}: SIGTERM, the sidecar stopped with exit code ${code}`);
}

/** The sidecar's settings: 1 s steps, seeded from the image's fixture so it forecasts at once. */
function sidecarConfig(metricsUrl) {
  return {
    stepSeconds: 1,
    schedule: { collect: '* * * * * *', forecast: '*/2 * * * * *', retrain: '0 0 3 * * *' },
    forecast: {
      horizonSteps: 30,
      models: ['seasonal-naive-weekly', 'holt-winters', 'seasonal-profile'],
      season: { daySteps: 24, weekSteps: 168 },
    },
    staleness: {
      maxDataAgeSeconds: 10,
      maxForecastAgeSeconds: 30,
      maxRollingMase: 1e9,
      maxModelMase: 10,
    },
    planner: {
      capacityPerReplica: 100,
      targetUtilization: 0.5,
      lead: { podStartSeconds: 0, readinessSeconds: 0, metricLagSeconds: 0, pollingSeconds: 5 },
    },
    historyPoints: 5000,
    source: { kind: 'scrape', urls: [metricsUrl], timeoutSeconds: 2 },
    seed: { file: '/app/packages/predictor/fixtures/flights-2001-hourly.csv' },
  };
}

/** The command name of process `pid`, or undefined once it is gone. */
function commOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The processes below `root`, breadth first (Linux /proc). */
function descendants(root) {
  const parentOf = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the ppid follows the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // Exited while we looked.
    }
  }
  const found = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift();
    for (const [child, parent] of parentOf)
      if (parent === pid) {
        found.push(child);
        queue.push(child);
      }
  }
  return found;
}

/** The `serve` arguments of both runs: config at /etc/tidewatch, loopback, any free port. */
const SERVE = [
  'tidewatch-predictor',
  'serve',
  '--config',
  '/etc/tidewatch/config.json',
  '--host',
  '127.0.0.1',
  '--port',
  '0',
];

/** `buildah run` of {@link SERVE} in `ctr`, the host's network, `dir` at /etc/tidewatch. */
function buildahRunArgs(ctr, dir) {
  const volume = `${dir}:/etc/tidewatch:ro`;
  return [
    ...STORAGE,
    'run',
    ...ISOLATION,
    '--network',
    'host',
    '--volume',
    volume,
    ctr,
    '--',
    ...SERVE,
  ];
}

/**
 * The container's root mounted read-only as a pod with `readOnlyRootFilesystem` has it:
 * `buildah run` has no such switch (and crashes cleaning up after a read-only root), so this
 * does what a runtime does, in a private mount namespace that ends with the process: the
 * root bound read-only, /proc, /dev, a tmpfs at /tmp (deploy/'s emptyDir), the config
 * read-only at /etc/tidewatch, then chroot to uid 65532 with the image's environment only.
 */
const READ_ONLY_RUN = `set -e
root="$1"; config="$2"; shift 2
mount --bind "$root" "$root"
mount -o remount,bind,ro "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o size=64m,mode=1777 tmpfs "$root/tmp"
mount --bind "$config" "$root/etc/tidewatch"
mount -o remount,bind,ro "$root/etc/tidewatch"
exec chroot --userspec=65532:65532 "$root" /bin/sh -c 'cd /app && exec "$@"' sh "$@"`;

/**
 * Starts a sidecar (own process group: stopping it can reach every process under it) and
 * reads its log for the URL it listens on.
 */
function startSidecar(command, args) {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const url = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const m = /"msg":"listening","url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (m) resolve(m[1]);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) =>
      reject(new Error(`the sidecar exited (${code}) before listening:\n${output}`)),
    );
  });
  url.catch(() => {});
  let stopping;
  return {
    url,
    exited,
    output: () => output,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null)
          return child.exitCode ?? child.signalCode;
        // SIGTERM to the sidecar itself, as a kubelet would: `buildah run` then exits with its
        // code. The whole group (buildah, its chroot runner, node) only if it hangs.
        const sidecarPid = descendants(child.pid).find((pid) => commOf(pid) === 'node');
        process.kill(sidecarPid ?? -child.pid, 'SIGTERM');
        const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), STOP_DEADLINE_MS);
        const code = await exited;
        clearTimeout(timer);
        return code;
      })();
      return stopping;
    },
  };
}

/** Polls /readyz until 200, the sidecar exits, or {@link READY_DEADLINE_MS} passes. */
async function pollReady(url, sidecar) {
  const deadline = Date.now() + READY_DEADLINE_MS;
  let last = { status: 0, body: '' };
  let exited = false;
  void sidecar.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    const res = await fetch(`${url}/readyz`).catch(() => undefined);
    if (res) last = { status: res.status, body: await res.text() };
    if (last.status === 200) return last;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(
    `/readyz still ${last.status} ${last.body} ${exited ? '(the sidecar exited)' : `after ${READY_DEADLINE_MS / 1000} s`}\n${sidecar.output()}`,
  );
}

try {
  await main();
} catch (error) {
  failed = true;
  console.error(`image: FAIL ${error?.stack ?? error}`);
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup();
}
if (failed) fail('test:image failed');
