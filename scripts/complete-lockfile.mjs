// Completes package-lock.json with the platform packages npm left out.
//
// Why: the registry this project is built against serves only the packages for this
// machine's platform, so `npm install` cannot resolve the other platforms' optional
// binaries (@esbuild/*, @rollup/*, @biomejs/cli-*, turbo's) and leaves them out of the
// lock. `npm ci` then refuses the lock as out of sync ("Missing: ... from lock file").
// Each missing entry is added as an optional package with the os/cpu its name implies, so
// `npm ci` skips it here and installs it on a machine of that platform.
//
// Run after any `npm install` that changes the lock: node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(file, 'utf8'));
const pkgs = lock.packages;

const OS = [
  'android',
  'darwin',
  'freebsd',
  'linux',
  'openbsd',
  'netbsd',
  'sunos',
  'win32',
  'aix',
  'openharmony',
];
const CPU = [
  'arm64',
  'arm',
  'x64',
  'ia32',
  'ppc64',
  'riscv64',
  's390x',
  'loong64',
  'mips64el',
  'mipsel',
  'x86',
];
function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  let os = parts.find((p) => OS.includes(p));
  if (os === undefined && parts.includes('windows')) os = 'win32';
  if (os === undefined && parts.includes('macos')) os = 'darwin';
  let cpu = parts.find((p) => CPU.includes(p));
  if (cpu === undefined && parts.includes('64')) cpu = 'x64';
  if (cpu === 'x86') cpu = 'ia32';
  const libc = parts.includes('musl') ? 'musl' : parts.includes('gnu') ? 'glibc' : undefined;
  return { os, cpu, libc };
}

let added = 0;
for (const [path, meta] of Object.entries(pkgs)) {
  for (const [dep, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const base = path === '' ? '' : `${path}/`;
    const candidates = [`${base}node_modules/${dep}`, `node_modules/${dep}`];
    if (candidates.some((c) => c in pkgs)) continue;
    const { os, cpu, libc } = platformOf(dep);
    if (os === undefined && cpu === undefined) continue; // not a platform binary
    const version = String(range).replace(/^[\^~=]/, '');
    pkgs[`node_modules/${dep}`] = {
      version,
      ...(meta.dev ? { dev: true } : {}),
      optional: true,
      ...(os ? { os: [os] } : {}),
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(libc ? { libc: [libc] } : {}),
    };
    added++;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) =>
    a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0,
  ),
);
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`package-lock.json: added ${added} platform entries`);
