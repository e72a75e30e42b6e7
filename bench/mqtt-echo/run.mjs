// Driver of the mqtt-echo benchmark: an aedes 1.x broker uninstrumented, with tidewatch, and
// with hand-written prom-client counters on aedes' own hooks, in interleaved rounds, then the
// memory phase. The machinery is shared with ws-echo (bench/common/driver.mjs); this file
// only says what mqtt-echo is. `node bench/mqtt-echo/run.mjs --help` lists the flags.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBenchmark } from '../common/driver.mjs';
import { targetNotes } from '../common/targets.mjs';
import { VARIANTS } from './common.mjs';

const DOC_HEADER = `# Benchmarks

Side-by-side benchmarks of instrumented realtime servers. Reproduce with \`npm run bench\`.
`;

runBenchmark({
  name: 'mqtt-echo',
  dir: path.dirname(fileURLToPath(import.meta.url)),
  variants: VARIANTS,
  baseline: 'baseline',
  url: (port) => `mqtt://127.0.0.1:${port}`,
  tidewatch: {
    variant: 'tidewatch',
    files: ['mqtt.js'],
    check: (mods) =>
      typeof mods['mqtt.js'].instrumentAedes === 'function'
        ? null
        : 'the built middleware has no instrumentAedes; run `npx turbo run build`',
  },
  packages: [
    ['aedes', '.', 'aedes'],
    ['mqtt (MQTT.js client)', '.', 'mqtt'],
    ['prom-client', '.', 'prom-client'],
    ['@tidewatch/middleware', '.', '@tidewatch/middleware'],
  ],
  flags: {
    fanout: {
      default: 4,
      min: 1,
      help: 'subscribers per topic in load rounds: the publisher + F - 1 passive ones',
    },
  },
  payload: (cfg) =>
    `${cfg.size} B QoS 0 PUBLISH to the client's own topic, delivered by the broker to the publisher and ${cfg.extra.fanout - 1} passive subscribers of that topic (one message in, ${cfg.extra.fanout} out per echo; msgs/s counts echoes), MQTT 3.1.1 over TCP; the memory phase holds one idle subscribed client per connection`,
  sizeHelp: 'payload bytes',
  docHeader: DOC_HEADER,
  extraNotes: targetNotes('issue 16'),
}).catch((err) => {
  console.error(err?.stack ?? err);
  process.exit(1);
});
