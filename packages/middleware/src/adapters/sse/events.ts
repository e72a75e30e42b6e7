import { isUtf8 } from '../shared/response.js';

/**
 * Where an SSE stream stands in the event framing, carried across writes so an event
 * written in several `res.write()` calls (or several events in one) counts exactly once.
 * The stream state object itself implements it, so scanning allocates nothing.
 */
export interface EventFraming {
  /** Bytes of the current block written in earlier chunks. */
  blockBytes: number;
  /** Whether the current line has any character besides CR (only 0 vs > 0 matters). */
  lineLen: number;
  /** Matching the field name `data` at the line start: 0-4 chars matched, 5 = `data:`, -1 = another field or a comment. */
  match: number;
  /** The current block has a `data` line, so the blank line ending it dispatches an event. */
  hasData: boolean;
  /** Called once per dispatched event with its bytes (from the end of the previous block through the blank line). */
  onEvent(bytes: number): void;
}

const LF = 10;
const CR = 13;
const COLON = 58;
const DATA = [100, 97, 116, 97]; // d a t a

/**
 * Feeds one written chunk through the SSE framing (WHATWG "event stream interpretation"):
 * a block ends at a blank line and is an event only when it has a `data` field, so comment
 * lines (`: heartbeat`) and `id:`/`retry:`-only blocks are not messages and their bytes are
 * not message bytes. Lines end at LF or CRLF; a stream using bare CR line endings (which no
 * common server library emits) has no events counted.
 *
 * Cost: native `indexOf` jumps from line to line, and only the first five characters of
 * each line are looked at. A string chunk is measured with `Buffer.byteLength`; only when a
 * non-ASCII string holds an event boundary before its end is a substring measured.
 */
export function scanChunk(f: EventFraming, chunk: unknown, encoding: unknown): void {
  let data: string | Uint8Array;
  let total: number;
  let ascii = true;
  if (typeof chunk === 'string') {
    if (isUtf8(encoding)) {
      data = chunk;
      total = Buffer.byteLength(chunk, 'utf8');
      ascii = total === chunk.length;
    } else {
      // latin1, base64, hex...: rare for SSE (the format is UTF-8); measure the real bytes.
      data = Buffer.from(chunk, encoding as BufferEncoding);
      total = data.length;
    }
  } else if (chunk instanceof Uint8Array) {
    data = chunk;
    total = chunk.length;
  } else {
    return;
  }
  if (total === 0) return;
  const str = typeof data === 'string';
  const n = data.length;
  let i = 0;
  /** Index where the current block's part in this chunk starts. */
  let partStart = 0;
  /** Bytes of this chunk already attributed to finished blocks. */
  let used = 0;
  while (i < n) {
    const lf = str ? (data as string).indexOf('\n', i) : (data as Uint8Array).indexOf(LF, i);
    const end = lf === -1 ? n : lf;
    // Look only until the line is known to be non-blank and its field name is decided.
    let j = i;
    while (j < end && (f.lineLen === 0 || (f.match >= 0 && f.match < 5))) {
      const c = str ? (data as string).charCodeAt(j) : (data as Uint8Array)[j]!;
      j++;
      if (c === CR) continue;
      const m = f.match;
      if (m >= 0 && m < 4) f.match = c === DATA[m] ? m + 1 : -1;
      else if (m === 4) f.match = c === COLON ? 5 : -1;
      f.lineLen++;
    }
    if (lf === -1) break;
    i = lf + 1;
    if (f.lineLen === 0) {
      // A blank line ends the block: an event if it had data, else a comment/heartbeat block.
      const part =
        i === n
          ? total - used
          : ascii
            ? i - partStart
            : Buffer.byteLength((data as string).slice(partStart, i), 'utf8');
      if (f.hasData) f.onEvent(f.blockBytes + part);
      f.blockBytes = 0;
      f.hasData = false;
      used += part;
      partStart = i;
    } else if (f.match === 4 || f.match === 5) {
      f.hasData = true;
    }
    f.lineLen = 0;
    f.match = 0;
  }
  f.blockBytes += total - used;
}
