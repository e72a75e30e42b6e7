import { describe, expect, it } from 'vitest';
import { SseParser } from '../../src/transports/sse-parser.js';

type Ev = [bytes: number, data: string, id: string | null];

/** Parses `text` fed in chunks of `size` bytes (splitting multi-byte characters too). */
function parse(text: string, size: number): Ev[] {
  const out: Ev[] = [];
  const p = new SseParser({ event: (b, d, id) => out.push([b, d, id]) });
  const buf = Buffer.from(text);
  for (let i = 0; i < buf.length; i += size) p.push(buf.subarray(i, i + size));
  return out;
}

describe('SseParser counts what the middleware counts', () => {
  const stream =
    ': hello comment\n\n' + // comment-only block: not an event
    'data: one\n\n' +
    'id: 7\nevent: msg\ndata: {"a":1}\ndata: two lines\n\n' +
    'retry: 1000\n\n' + // no data: not an event
    'data\n\n' + // a data field with an empty value is an event
    'dataX: nope\n\n' + // not the data field
    'data: crlf\r\n\r\n' +
    'data: été 房\n: inline comment\n\n' +
    'data: unfinished';

  const expected: Ev[] = [
    [Buffer.byteLength('data: one\n\n'), 'one', null],
    [
      Buffer.byteLength('id: 7\nevent: msg\ndata: {"a":1}\ndata: two lines\n\n'),
      '{"a":1}\ntwo lines',
      '7',
    ],
    [Buffer.byteLength('data\n\n'), '', null],
    [Buffer.byteLength('data: crlf\r\n\r\n'), 'crlf', null],
    [Buffer.byteLength('data: été 房\n: inline comment\n\n'), 'été 房', null],
  ];

  it('whole events: blocks with data, bytes = whole block through the blank line', () => {
    expect(parse(stream, 1 << 20)).toEqual(expected);
  });

  it('the same whatever the chunking, down to one byte at a time', () => {
    for (const size of [1, 2, 3, 5, 7, 13, 64]) expect(parse(stream, size)).toEqual(expected);
  });
});
