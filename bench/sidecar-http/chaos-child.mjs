// The sidecar's upstream for bench/sidecar-http/run.mjs, in its own process so that streaming a
// 300 MB body costs the measuring client nothing: startChaosServer of @tidewatch/test-utils
// (packages/test-utils/src/chaos.ts), driven over IPC. Messages in: {mode} (switch), {stats};
// out: {port} once listening, then {stats: {mode, open, openAll, requests, modeRequests}} per
// {stats} (open: responses of the current mode still open; openAll: of any mode; requests: all
// so far; modeRequests: those that arrived in the current mode).
import { metricName } from '@tidewatch/conventions';
import { importTs } from './load-ts.mjs';

const { startChaosServer } = await importTs('packages/test-utils/src/chaos.ts');
const chaos = await startChaosServer({
  metrics: { gauge: metricName('connections'), counter: metricName('messages') },
});
process.on('message', (msg) => {
  if (msg.mode) chaos.setMode(msg.mode);
  if (msg.stats)
    process.send({
      stats: {
        mode: chaos.mode,
        open: chaos.openResponses(chaos.mode),
        openAll: chaos.openResponses(),
        requests: chaos.requests(),
        modeRequests: chaos.requests(chaos.mode),
      },
    });
});
process.on('disconnect', () => {
  void chaos.close().then(() => process.exit(0));
});
process.send({ port: chaos.port });
