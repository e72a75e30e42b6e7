// Driver of the grpc-echo benchmark: a grpc-js bidirectional echo uninstrumented, with
// tidewatch, and with hand-written prom-client counters in the handler, in interleaved rounds,
// then the memory phase (idle streams). The machinery is shared with ws-echo (bench/common/driver.mjs); this file
// only says what grpc-echo is. `node bench/grpc-echo/run.mjs --help` lists the flags.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBenchmark } from '../common/driver.mjs';
import { targetNotes } from '../common/targets.mjs';
import { VARIANTS } from './common.mjs';

const DOC_HEADER = `# Benchmarks

Side-by-side benchmarks of instrumented realtime servers. Reproduce with \`npm run bench\`.
`;

runBenchmark({
  name: 'grpc-echo',
  dir: path.dirname(fileURLToPath(import.meta.url)),
  variants: VARIANTS,
  baseline: 'baseline',
  url: (port) => `grpc://127.0.0.1:${port}`,
  tidewatch: {
    variant: 'tidewatch',
    files: ['grpc.js'],
    check: (mods) =>
      typeof mods['grpc.js'].instrumentGrpc === 'function'
        ? null
        : 'the built middleware has no instrumentGrpc; run `npx turbo run build`',
  },
  packages: [
    ['@grpc/grpc-js', '.', '@grpc/grpc-js'],
    ['prom-client', '.', 'prom-client'],
    ['@tidewatch/middleware', '.', '@tidewatch/middleware'],
  ],
  payload: (cfg) =>
    `${cfg.size} B raw-bytes messages on bidirectional streams (one stream per connection, multiplexed over one HTTP/2 channel), echoed by the handler`,
  sizeHelp: 'payload bytes',
  docHeader: DOC_HEADER,
  extraNotes: targetNotes('issue 16'),
}).catch((err) => {
  console.error(err?.stack ?? err);
  process.exit(1);
});
