/**
 * The `msg` envelope of the wire protocol, padded to `messageBytes` without building the
 * padding per message: the text is a slice of one precomputed string.
 */

/** A room name with its JSON form, computed once. */
export interface Room {
  readonly name: string;
  /** `JSON.stringify(name)`. */
  readonly json: string;
  /** UTF-8 bytes of `json` beyond its length in UTF-16 units (0 for ASCII names). */
  readonly extraBytes: number;
}

/** Prepares a room for {@link MessageFactory}. */
export function room(name: string): Room {
  const json = JSON.stringify(name);
  return { name, json, extraBytes: Buffer.byteLength(json) - json.length };
}

/** The room of clients that joined none. */
export const NO_ROOM: Room = room('');

/**
 * Builds `{"type":"msg","room":R,"id":"<client>-<n>","t":<unix ms>,"text":"xxx"}` with the
 * text padded so the whole JSON is `messageBytes` UTF-8 bytes (or the bare envelope when
 * that is already larger). Ids are ASCII by construction.
 */
export class MessageFactory {
  private readonly pad: string;
  private readonly bytes: number;

  /** @param messageBytes - Target size of each message, bytes. */
  constructor(messageBytes: number) {
    this.bytes = messageBytes;
    this.pad = 'x'.repeat(messageBytes);
  }

  /** The envelope up to and including the opening quote of `text`. */
  head(r: Room, id: string, t: number): string {
    return `{"type":"msg","room":${r.json},"id":"${id}","t":${t},"text":"`;
  }

  /** The padding text for an envelope whose head is `head` (for object-based transports). */
  text(r: Room, head: string): string {
    const n = this.bytes - head.length - r.extraBytes - 2;
    return n > 0 ? this.pad.slice(0, n) : '';
  }

  /** The whole JSON frame. */
  frame(r: Room, id: string, t: number): string {
    const head = this.head(r, id, t);
    return `${head}${this.text(r, head)}"}`;
  }
}
