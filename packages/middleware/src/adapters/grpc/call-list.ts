/**
 * What a call needs to be in a {@link CallList}: a state word with one bit per list, and
 * the two links.
 */
export interface Linked {
  state: number;
  prev: Linked | null;
  after: Linked | null;
}

/**
 * A set of calls as an intrusive doubly linked list in insertion order (what a `Set` would
 * do, without an entry and its share of the hash table per call): a call is in at most one
 * list at a time (pending, then open), through its own two link fields and a state bit.
 */
export class CallList<T extends Linked> implements Iterable<T> {
  size = 0;
  private head: T | null = null;
  private tail: T | null = null;
  private readonly bit: number;

  /** @param bit - The state bit that says a call is in this list (one bit per list). */
  constructor(bit: number) {
    this.bit = bit;
  }

  add(c: T): void {
    if ((c.state & this.bit) !== 0) return;
    c.state |= this.bit;
    c.prev = this.tail;
    c.after = null;
    if (this.tail === null) this.head = c;
    else this.tail.after = c;
    this.tail = c;
    this.size++;
  }

  delete(c: T): void {
    if ((c.state & this.bit) === 0) return;
    c.state &= ~this.bit;
    const prev = c.prev as T | null;
    const after = c.after as T | null;
    if (prev === null) this.head = after;
    else prev.after = after;
    if (after === null) this.tail = prev;
    else after.prev = prev;
    c.prev = null;
    c.after = null;
    this.size--;
  }

  clear(): void {
    let c = this.head;
    while (c !== null) {
      const after = c.after as T | null;
      c.state &= ~this.bit;
      c.prev = null;
      c.after = null;
      c = after;
    }
    this.head = null;
    this.tail = null;
    this.size = 0;
  }

  *[Symbol.iterator](): Iterator<T> {
    let c = this.head;
    while (c !== null) {
      const after = c.after as T | null;
      yield c;
      c = after;
    }
  }
}
