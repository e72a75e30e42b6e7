#!/usr/bin/env node
// Lays out the predictor's runtime tree for the container image (run by the Dockerfile's build
// stage, after the build): `node scripts/image/prod-tree.mjs OUT`.
//
// OUT gets a root package.json whose workspaces are only @tidewatch/predictor and the
// @tidewatch packages it depends on at run time (followed through `dependencies`), each with
// what `npm pack` would ship (its `files` + package.json, devDependencies and scripts removed),
// and the repo's package-lock.json. `npm install --omit=dev` in OUT then installs exactly the
// runtime closure at the locked versions. `npm ci --omit=dev --workspace @tidewatch/predictor`
// on the whole repo cannot do this: workspaces are never "dev" in the lockfile, so every
// workspace's dependencies (Socket.IO, gRPC, aedes of the middleware and test-utils) would
// come along.
//
// No dependencies: plain Node.

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ENTRY = '@tidewatch/predictor';

function fail(message) {
  console.error(`prod-tree: ${message}`);
  process.exit(1);
}

const out = process.argv[2];
if (!out) fail('usage: node scripts/image/prod-tree.mjs OUT_DIR');
if (existsSync(out) && readdirSync(out).length > 0) fail(`${out} exists and is not empty`);

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const root = readJson('package.json');

// Every workspace directory of the repo, by package name.
const dirOf = new Map();
for (const pattern of root.workspaces) {
  const dirs = pattern.endsWith('/*')
    ? readdirSync(pattern.slice(0, -2), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => `${pattern.slice(0, -2)}/${d.name}`)
    : [pattern];
  for (const dir of dirs) {
    if (existsSync(join(dir, 'package.json')))
      dirOf.set(readJson(join(dir, 'package.json')).name, dir);
  }
}

// The runtime closure of workspaces, from the entry through `dependencies` only.
const needed = [];
const queue = [ENTRY];
while (queue.length > 0) {
  const name = queue.shift();
  if (needed.includes(name)) continue;
  if (!dirOf.has(name)) fail(`${name} is not a workspace of this repo`);
  needed.push(name);
  for (const dep of Object.keys(readJson(join(dirOf.get(name), 'package.json')).dependencies ?? {}))
    if (dirOf.has(dep)) queue.push(dep);
}

mkdirSync(out, { recursive: true });
for (const name of needed) {
  const dir = dirOf.get(name);
  const manifest = readJson(join(dir, 'package.json'));
  delete manifest.devDependencies;
  delete manifest.scripts;
  mkdirSync(join(out, dir), { recursive: true });
  writeFileSync(join(out, dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  // `files` is what npm publishes; a built package without dist/ is a build-stage bug.
  for (const entry of manifest.files ?? []) {
    if (!existsSync(join(dir, entry))) fail(`${dir}/${entry} missing (was ${name} built?)`);
    cpSync(join(dir, entry), join(out, dir, entry), { recursive: true });
  }
}
delete root.devDependencies;
root.scripts = {};
root.workspaces = needed.map((name) => dirOf.get(name));
writeFileSync(join(out, 'package.json'), `${JSON.stringify(root, null, 2)}\n`);
cpSync('package-lock.json', join(out, 'package-lock.json'));
if (existsSync('.npmrc')) cpSync('.npmrc', join(out, '.npmrc'));
console.log(`prod-tree: ${root.workspaces.join(', ')} -> ${out}`);
