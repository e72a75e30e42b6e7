import { describe, expect, it } from 'vitest';
import { MessageFactory, room } from '../../src/message.js';
import { ownSeqAt } from '../../src/transports/util.js';

describe('MessageFactory', () => {
  it('pads the JSON envelope to exactly messageBytes UTF-8 bytes, for any id, time and room', () => {
    const f = new MessageFactory(200);
    for (const name of ['r1', 'lobby', 'salle-été', '房间']) {
      const r = room(name);
      for (const [id, t] of [
        ['lg1.0-1', 1],
        ['lgzz.123456-98765', 1_700_000_000_123],
      ] as const) {
        const frame = f.frame(r, id, t);
        expect(Buffer.byteLength(frame)).toBe(200);
        expect(JSON.parse(frame)).toMatchObject({ type: 'msg', room: name, id, t });
        // Object-based transports build the same JSON from head + text.
        const obj = { type: 'msg', room: name, id, t, text: f.text(r, f.head(r, id, t)) };
        expect(JSON.stringify(obj)).toBe(frame);
      }
    }
  });

  it('is the bare envelope when messageBytes is smaller than the envelope', () => {
    const f = new MessageFactory(10);
    const frame = f.frame(room('r'), 'a-1', 5);
    expect(frame).toBe('{"type":"msg","room":"r","id":"a-1","t":5,"text":""}');
  });
});

describe('ownSeqAt: finding our own message ids', () => {
  it('reads the sequence number after the marker, only when the id ends there', () => {
    const s = '{"type":"msg","id":"lg1.7-42","t":1}';
    const marker = '"id":"lg1.7-';
    expect(ownSeqAt(s, s.indexOf(marker) + marker.length)).toBe(42);
    expect(ownSeqAt(Buffer.from(s), s.indexOf(marker) + marker.length)).toBe(42);
    // Another client's id that merely starts like ours: lg1.7-4x is not a sequence number.
    const other = '{"id":"lg1.7-4x"}';
    expect(ownSeqAt(other, other.indexOf(marker) + marker.length)).toBe(0);
    const cut = '{"id":"lg1.7-42';
    expect(ownSeqAt(cut, cut.indexOf(marker) + marker.length)).toBe(0);
  });
});
