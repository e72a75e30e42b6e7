// Driver of the ws-echo benchmark: runs every variant in interleaved rounds, then the
// memory-per-connection phase, and reports medians and paired ratios vs baseline. The
// machinery is shared with bench/sio-echo (bench/common/driver.mjs); this file only says what
// ws-echo is. `node bench/ws-echo/run.mjs --help` lists the flags; README.md explains the method.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBenchmark } from '../common/driver.mjs';
import { VARIANTS } from './common.mjs';

const DOC_HEADER = `# Benchmarks

Headline benchmark: a \`ws\` 8 echo server under closed-loop load, with no metrics
(\`baseline\`), with tidewatch, and with the hand-written prom-client and OpenTelemetry SDK
instrumentation tidewatch replaces. Method and variants:
[bench/ws-echo/README.md](../bench/ws-echo/README.md).

Reproduce (builds the packages, runs all four variants, rewrites the section below):

\`\`\`sh
npm run bench
\`\`\`

which runs \`node bench/ws-echo/run.mjs --write-docs\` after \`turbo run build\`. Absolute
numbers are only comparable within one run on one machine; ratios and CPU µs/msg travel better.

## ws-echo

<!-- ws-echo:start -->
<!-- ws-echo:end -->
`;

runBenchmark({
  name: 'ws-echo',
  dir: path.dirname(fileURLToPath(import.meta.url)),
  variants: VARIANTS,
  baseline: 'baseline',
  url: (port) => `ws://127.0.0.1:${port}/ws`,
  tidewatch: { variant: 'tidewatch', files: ['ws.js'] },
  // [label, where it is installed (relative to the repo root), package]. prom-client is the
  // root copy: bench/node_modules holds a 14.x for sio-echo's socket.io-prometheus, and the
  // ws-echo server imports prom-client from the root explicitly (bench/common/resolve.mjs).
  packages: [
    ['ws', '.', 'ws'],
    ['prom-client', '.', 'prom-client'],
    ['@opentelemetry/api', '.', '@opentelemetry/api'],
    ['@opentelemetry/sdk-metrics', '.', '@opentelemetry/sdk-metrics'],
    ['@tidewatch/middleware', '.', '@tidewatch/middleware'],
  ],
  payload: (cfg) => `${cfg.size} B binary`,
  sizeHelp: 'payload bytes',
  docHeader: DOC_HEADER,
}).catch((err) => {
  console.error(err?.stack ?? err);
  process.exit(1);
});
