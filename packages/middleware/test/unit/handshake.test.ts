import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type Handshake, HandshakeTracker } from '../../src/adapters/shared/handshake.js';

function socket(): Duplex {
  return new Duplex({
    read() {},
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

function tracker() {
  const ended: Array<[string, string]> = [];
  const t = new HandshakeTracker((h: Handshake, outcome) => ended.push([h.endpoint, outcome]));
  return { t, ended };
}

const closedOnce = (s: Duplex) => new Promise((r) => s.once('close', r));

describe('HandshakeTracker', () => {
  it('success releases everything: no socket wrappers, no entry, nothing in flight', () => {
    const { t, ended } = tracker();
    const s = socket();
    const h = t.begin(s, '/ws', 'web');
    expect(t.begin(s, '/other', 'x')).toBe(h);
    expect(Object.hasOwn(s, 'write')).toBe(true);
    s.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
    expect(Object.hasOwn(s, 'write')).toBe(false);
    expect(Object.hasOwn(s, 'end')).toBe(false);
    expect(t.pending.size).toBe(1);
    t.succeed(h);
    expect(t.get(s)).toBeUndefined();
    expect(t.pending.size).toBe(0);
    expect(s.listenerCount('close')).toBe(0);
    expect(ended).toEqual([['/ws', 'success']]);
  });

  it.each([
    ['HTTP/1.1 401 Unauthorized\r\n\r\n', false, 'rejected'],
    ['HTTP/1.1 400 Bad Request\r\n\r\n', true, 'rejected'], // the peer leaves after the answer
    ['HTTP/1.1 503 Service Unavailable\r\n\r\n', false, 'error'],
    [null, false, 'rejected'],
    [null, true, 'aborted'],
  ])('response %j, peer gone %s -> %s', async (response, peerGone, outcome) => {
    const { t, ended } = tracker();
    const s = socket();
    t.begin(s, '/ws', 'web');
    const done = closedOnce(s);
    if (response) s.end(Buffer.from(response));
    if (peerGone) s.push(null); // the client's FIN
    s.resume();
    await new Promise((r) => setImmediate(r));
    s.destroy();
    await done;
    expect(ended).toEqual([['/ws', outcome]]);
    expect(t.get(s)).toBeUndefined();
    expect(t.pending.size).toBe(0);
  });

  it('a FIN before any response is an abort, decided at once (half-open sockets may never close)', async () => {
    const { t, ended } = tracker();
    const s = socket();
    t.begin(s, '/ws', 'web');
    s.push(null);
    s.resume();
    await new Promise((r) => setImmediate(r));
    expect(ended).toEqual([['/ws', 'aborted']]);
    expect(t.pending.size).toBe(0);
    s.destroy();
  });

  it('a 101 that nobody claims (another server opened it) is forgotten, not counted', async () => {
    const { t, ended } = tracker();
    const s = socket();
    t.begin(s, '/ws', 'web');
    s.write('HTTP/1.1 101 Switching Protocols\r\n\r\n');
    await new Promise((r) => setImmediate(r));
    expect(t.pending.size).toBe(0);
    expect(ended).toEqual([]);
  });
});
