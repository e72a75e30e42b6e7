/**
 * The client side of the SSE event framing (WHATWG "event stream interpretation"), fed raw
 * bytes in whatever chunks the socket gives. It counts exactly what the middleware's SSE
 * adapter counts on the server: an event is a block ending at a blank line that has a
 * `data` field, and its bytes are the whole block (every line and the blank line); blocks
 * without data (comments, heartbeats, `retry:`) are neither messages nor message bytes.
 * Lines end at LF or CRLF.
 */

/** Receives parsed events. */
export interface SseSink {
  /**
   * One event: its block's bytes, its data (lines joined by `\n`), and its id (`null`
   * when the block had no `id` field).
   */
  event(bytes: number, data: string, id: string | null): void;
}

const LF = 10;
const CR = 13;

/** Incremental SSE parser; one per stream. */
export class SseParser {
  private readonly sink: SseSink;
  /** Bytes of the current line seen in earlier chunks (a line split across chunks). */
  private partial: Buffer[] = [];
  private blockBytes = 0;
  private data: string[] = [];
  private hasData = false;
  private id: string | null = null;
  /** A UTF-8 BOM at the very start is skipped (and still counted as block bytes). */
  private first = true;

  constructor(sink: SseSink) {
    this.sink = sink;
  }

  /** Feeds one chunk. */
  push(chunk: Buffer): void {
    let start = 0;
    const n = chunk.length;
    while (start < n) {
      const lf = chunk.indexOf(LF, start);
      if (lf === -1) {
        this.partial.push(chunk.subarray(start));
        return;
      }
      let line = chunk.subarray(start, lf);
      const lineBytes = lf + 1 - start;
      if (this.partial.length > 0) {
        this.partial.push(line);
        line = Buffer.concat(this.partial);
        this.blockBytes += line.length + 1;
        this.partial = [];
      } else {
        this.blockBytes += lineBytes;
      }
      this.line(line);
      start = lf + 1;
    }
  }

  private line(raw: Buffer): void {
    let end = raw.length;
    if (end > 0 && raw[end - 1] === CR) end--;
    let begin = 0;
    if (this.first) {
      this.first = false;
      if (end >= 3 && raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) begin = 3;
    }
    if (end === begin) {
      this.dispatch();
      return;
    }
    // Field name up to the first colon; a line without one is a field with an empty value.
    let colon = raw.indexOf(58, begin);
    if (colon === -1 || colon >= end) colon = end;
    if (colon === begin) return; // a comment
    const name = raw.toString('latin1', begin, colon);
    let v = colon + 1;
    if (v < end && raw[v] === 32) v++;
    if (name === 'data') {
      this.hasData = true;
      this.data.push(v <= end ? raw.toString('utf8', v, end) : '');
    } else if (name === 'id') {
      const id = v <= end ? raw.toString('utf8', v, end) : '';
      if (!id.includes('\0')) this.id = id;
    }
  }

  private dispatch(): void {
    if (this.hasData) {
      const data = this.data.length === 1 ? this.data[0]! : this.data.join('\n');
      this.sink.event(this.blockBytes, data, this.id);
    }
    this.blockBytes = 0;
    this.data = [];
    this.hasData = false;
    this.id = null;
  }
}
