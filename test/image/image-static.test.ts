/**
 * The container image's contract with deploy/, checked without building it (the build and a
 * run of the sidecar inside it are `npm run test:image`, minutes long, in .ci/run): the tag
 * deploy/ references is the predictor's package version, the base the Dockerfile names is
 * the one scripts/image/base.mjs assembles, and the user and command deploy/ relies on are the
 * image's own.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_DEPLOY_CONFIG } from '@tidewatch/mixin';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../fixtures/doc-snippets.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const version = (JSON.parse(read('packages/predictor/package.json')) as { version: string })
  .version;
const dockerfile = read('Dockerfile');

/** Every container named `predictor` in a deploy/ file. */
function predictorContainers(file: string): { image: string; command: string[] }[] {
  const found: { image: string; command: string[] }[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) for (const item of node) visit(item);
    else if (node && typeof node === 'object') {
      const record = node as Record<string, unknown>;
      if (record.name === 'predictor' && typeof record.image === 'string')
        found.push(record as unknown as { image: string; command: string[] });
      for (const value of Object.values(record)) visit(value);
    }
  };
  for (const doc of parseAllDocuments(read(file))) visit(doc.toJS());
  return found;
}

describe('container image', () => {
  it("deploy/ references ghcr.io/tidewatch/predictor at the predictor's package version", () => {
    const image = `ghcr.io/tidewatch/predictor:${version}`;
    expect(DEFAULT_DEPLOY_CONFIG.predictorImage).toBe(image);
    for (const file of [
      'deploy/realtime-server-with-sidecar.yaml',
      'deploy/predictor-standalone.yaml',
    ]) {
      const containers = predictorContainers(file);
      expect(containers.length, file).toBe(1);
      expect(containers[0]?.image, file).toBe(image);
      // The Dockerfile's ENTRYPOINT puts the same program on PATH.
      expect(containers[0]?.command, file).toEqual(['tidewatch-predictor']);
    }
  });

  it('the Dockerfile runs tidewatch-predictor serve as a numeric non-root user', () => {
    expect(dockerfile).toMatch(/^ENTRYPOINT \["tidewatch-predictor"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["serve"\]$/m);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/^ARG VERSION=(\S+)$/m);
    expect(/^ARG VERSION=(\S+)$/m.exec(dockerfile)?.[1]).toBe(version);
  });

  it('the base the Dockerfile names is the one scripts/image/base.mjs assembles', () => {
    const from = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile)?.[1];
    expect(from).toBe('docker.io/library/node:20-bookworm-slim');
    expect(read('scripts/image/base.mjs')).toContain(`export const BASE_IMAGE = '${from}';`);
    const stages = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((m) => m[1]);
    const fromArg = `\${NODE_IMAGE}`;
    expect(stages).toEqual([fromArg, fromArg]);
  });
});
