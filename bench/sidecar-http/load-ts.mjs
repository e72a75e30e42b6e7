// Imports a TypeScript module of the repository (the test helpers in packages/test-utils/src,
// which vitest runs as source and nothing builds) from a plain Node script: esbuild strips the
// types, the result is imported as a data: URL. Only for modules that import nothing but
// `node:` builtins (relative imports cannot resolve from a data: URL).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT } from '../common/resolve.mjs';

const { transformSync } = createRequire(path.join(ROOT, 'package.json'))('esbuild');

/** import() of `file` (relative to the repository root) with its types stripped. */
export function importTs(file) {
  const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const { code } = transformSync(source, { loader: 'ts', format: 'esm', sourcefile: file });
  return import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
}
