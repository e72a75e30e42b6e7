/**
 * The `tidewatch-loadgen` bin (built to `dist/cli.js` with a shebang). Running the CLI on
 * load is its purpose; everything else lives in cli/program.ts.
 */
import { run } from './cli/program.js';

// exitCode rather than process.exit(): the JSON report piped to another process must be
// flushed completely, and the run leaves no timers or sockets behind, so Node exits by itself.
run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
