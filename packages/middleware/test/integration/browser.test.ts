import { launchChromium } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sse } from '../../src/express.js';
import {
  type EchoServer,
  histogram,
  scrapeAfterCloses,
  startEchoServer,
  value,
} from '../helpers.js';

// The page a person would open: its own WebSocket, the browser's framing, the browser's closes.
const PAGE = `<!doctype html><title>tidewatch browser client</title><pre id="log"></pre>
<script>
const log = (s) => { document.getElementById('log').textContent += s + '\\n'; };
async function run() {
  const url = 'ws://' + location.host + '/ws';
  const a = new WebSocket(url);
  await new Promise((r) => a.addEventListener('open', r));
  let echoes = 0;
  const done = new Promise((r) => a.addEventListener('message', () => { if (++echoes === 6) r(); }));
  for (let i = 0; i < 5; i++) a.send('hello ' + i);
  a.send(new Uint8Array(300));
  await done;
  a.close(1000, 'done');
  await new Promise((r) => a.addEventListener('close', r));
  const b = new WebSocket(url);
  await new Promise((r) => b.addEventListener('open', r));
  log('b open');
  // The browser's own EventSource: three events, then the page closes the stream.
  const es = new EventSource('/events');
  let events = 0;
  await new Promise((r) => es.addEventListener('message', () => { if (++events === 3) r(); }));
  es.close();
  log('events ' + events);
  return echoes;
}
window.result = run().then((n) => { log('echoes ' + n); return n; });
</script>`;

let srv: EchoServer;
beforeAll(async () => {
  srv = await startEchoServer({
    instrument: {
      clientType: (req) =>
        req.headers['user-agent']?.includes('HeadlessChrome') ? 'browser' : 'other',
    },
  });
  const events = sse(srv.metrics, { endpoint: 'feed' });
  srv.server.prependListener('request', (req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
    } else if (req.url === '/events') {
      events(req, res);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      res.write(': connected\n\n'); // a comment: not an event
      for (let i = 0; i < 3; i++) res.write(`id: ${i}\ndata: tick ${i}\n\n`);
    }
  });
});
afterAll(async () => srv?.close());

describe('a real browser is a real client', () => {
  it("headless Chromium's own WebSocket and EventSource traffic is counted exactly", async () => {
    await using chrome = await launchChromium();
    const page = await chrome.browser.newPage();
    await page.goto(`http://127.0.0.1:${srv.port}/`);
    const echoes = await page.evaluate(
      () => (globalThis as unknown as { result: Promise<number> }).result,
    );
    expect(echoes).toBe(6);
    const ws = { transport: 'websocket' };
    const stream = { transport: 'sse', endpoint: 'feed' };
    let fams = await scrapeAfterCloses(srv, 2);
    expect(value(fams, 'realtime_connections_opened_total', ws)).toBe(2);
    expect(value(fams, 'realtime_connections', ws)).toBe(1);
    // The EventSource: one stream, three events out, closed by the page (the client).
    expect(value(fams, 'realtime_connections_opened_total', stream)).toBe(1);
    expect(value(fams, 'realtime_messages_total', { ...stream, direction: 'out' })).toBe(3);
    expect(
      value(fams, 'realtime_connections_closed_total', { ...stream, initiator: 'client' }),
    ).toBe(1);
    expect(value(fams, 'realtime_connections', stream)).toBe(0);
    expect(
      value(fams, 'realtime_connections_closed_total', {
        ...ws,
        reason: 'normal',
        initiator: 'client',
      }),
    ).toBe(1);
    expect(
      value(fams, 'realtime_messages_total', { direction: 'in', client_type: 'browser' }),
    ).toBe(6);
    expect(
      value(fams, 'realtime_messages_total', { direction: 'out', client_type: 'browser' }),
    ).toBe(6);
    expect(value(fams, 'realtime_message_bytes_total', { direction: 'in' })).toBe(5 * 7 + 300);
    expect(
      histogram(fams, 'realtime_handshake_duration_seconds', { ...ws, outcome: 'success' }).count,
    ).toBe(2);
    // Closing the tab drops the second socket: the browser sends a close frame (1001).
    await page.close();
    fams = await scrapeAfterCloses(srv, 3);
    expect(
      value(fams, 'realtime_connections_closed_total', {
        reason: 'going_away',
        initiator: 'client',
      }),
    ).toBe(1);
    expect(value(fams, 'realtime_connections')).toBe(0);
  });
});
