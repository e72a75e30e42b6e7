// Shared by scripts/image/base.mjs and scripts/image/test.mjs: running commands with a bounded
// time, installing the Debian packages the image scripts drive (buildah, debootstrap) when
// they are missing, and the buildah flags this machine needs (root, chroot isolation, vfs).
// No dependencies: plain Node.

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Every buildah call: vfs storage (no overlay/fuse here) under /var/lib/containers. */
export const STORAGE = ['--storage-driver', 'vfs'];
/** `buildah bud` / `buildah run`: no user namespaces or runc needed, the host's network. */
export const ISOLATION = ['--isolation', 'chroot'];

/**
 * An environment variable of the image scripts (not of any turbo task: read by name here, so
 * the linter's turbo.json check does not apply).
 */
export function envVar(name) {
  return process.env[name];
}

/** Prints one line prefixed with the script's name. */
export function log(message) {
  console.log(`image: ${message}`);
}

/** Prints the message and exits 1. */
export function fail(message) {
  console.error(`image: ${message}`);
  process.exit(1);
}

/** Seconds since `startMs`, one decimal. */
export function secondsSince(startMs) {
  return ((Date.now() - startMs) / 1000).toFixed(1);
}

/** The absolute path of `name` on PATH, or undefined. */
export function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

/**
 * Runs `cmd args` and returns its stdout; output is shown live when `inherit`.
 * Exits the script with the command's last lines when it fails or outlives `timeoutMs`.
 */
export function run(
  cmd,
  args,
  { timeoutMs = 10 * 60_000, inherit = false, allowFail = false } = {},
) {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
    stdio: inherit ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (allowFail) return res;
  if (res.error || res.status !== 0) {
    const why = res.error
      ? res.error.message
      : res.signal
        ? `killed by ${res.signal} after ${timeoutMs / 1000} s`
        : `exit code ${res.status}`;
    const tail = `${res.stdout ?? ''}${res.stderr ?? ''}`
      .trimEnd()
      .split('\n')
      .slice(-20)
      .join('\n');
    fail(`\`${cmd} ${args.join(' ')}\` failed (${why})${tail ? `:\n${tail}` : ''}`);
  }
  return res.stdout ?? '';
}

/** `buildah <storage flags> ...args`. */
export function buildah(args, options) {
  return run('buildah', [...STORAGE, ...args], options);
}

/**
 * The OCI config (`Env`, `Entrypoint`, `Cmd`, `User`, `Labels`, ...) of image `name` in local
 * storage, or undefined when there is no such image. (buildah 1.28's --format has no `json`.)
 */
export function imageConfig(name) {
  const res = buildah(['inspect', '--type', 'image', name], { allowFail: true });
  if (res.error || res.status !== 0) return undefined;
  return JSON.parse(res.stdout).OCIv1?.config ?? {};
}

/** The ID of image `name` in local storage, or undefined. */
export function imageId(name) {
  const res = buildah(['images', '--quiet', '--no-trunc', name], { allowFail: true });
  return res.status === 0 ? res.stdout.trim().split('\n')[0] || undefined : undefined;
}

/**
 * After `name` was rebuilt: removes the image it named before (`previous`, now untagged), so
 * repeated runs do not pile up copies (vfs stores every layer in full). Kept when in use.
 */
export function removeReplaced(name, previous) {
  if (previous && imageId(name) !== previous) buildah(['rmi', previous], { allowFail: true });
}

/**
 * Installs the Debian packages providing `tools` (name -> package) that are not on PATH, with
 * apt-get as root; fails with the command to run otherwise or when apt-get fails.
 */
export function ensureTools(tools) {
  const missing = Object.keys(tools).filter((tool) => !which(tool));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => tools[tool]))];
  const manual = `apt-get update && apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (process.getuid?.() !== 0 || !which('apt-get'))
    fail(
      `${missing.join(', ')} not found and cannot be installed here (needs root + apt-get); run: ${manual}`,
    );
  log(`installing ${packages.join(', ')} with apt-get`);
  const lock = ['-o', 'DPkg::Lock::Timeout=300', '-q'];
  for (const args of [
    [...lock, 'update'],
    [...lock, 'install', '-y', '--no-install-recommends', ...packages],
  ]) {
    const res = run('apt-get', args, { allowFail: true });
    if (res.error || res.status !== 0) {
      const tail = `${res.stdout ?? ''}${res.stderr ?? ''}`
        .trimEnd()
        .split('\n')
        .slice(-15)
        .join('\n');
      fail(`apt-get ${args.join(' ')} failed; install by hand: ${manual}\n${tail}`);
    }
  }
  const still = missing.filter((tool) => !which(tool));
  if (still.length > 0)
    fail(`installed ${packages.join(', ')}, but ${still.join(', ')} still not on PATH`);
}

/** The image-related tools and their Debian packages. */
export const IMAGE_TOOLS = { buildah: 'buildah', debootstrap: 'debootstrap' };
