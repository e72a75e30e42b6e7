/**
 * The `tidewatch-predictor` bin (built to `dist/cli.js` with a shebang). Running the CLI on
 * load is its purpose; everything else lives in program.ts.
 */
import { run } from './program.js';

// exitCode rather than process.exit(): a large JSON result piped to another process must be
// flushed completely before Node exits.
run(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = 1;
  },
);
