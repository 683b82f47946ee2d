/**
 * The HPACK dynamic table (RFC 7541 §2.3.2, §4): a FIFO of header fields bounded by
 * size (name + value + 32 octets each), newest at index 1, oldest evicted first. The
 * encoder's copy also keeps lookups from name and from name+value to the newest
 * matching entry. Pure: no node: imports.
 */

/** Per-entry overhead in the size of the table (RFC 7541 §4.1). */
export const entryOverhead = 32;

export class HpackDynamicTable {
  private names: string[] = new Array<string>(16);
  private values: string[] = new Array<string>(16);
  /** A small number the owner keeps per entry (the decoder: whether the field is valid HTTP). */
  private tags = new Uint8Array(16);
  /** Ring position of the oldest entry. */
  private head = 0;
  private count = 0;
  /** The sum of entry sizes, never above `maxSize`. */
  size = 0;
  /** Insertions so far; the newest entry's id. Entry ids outlive their index. */
  private inserted = 0;
  private readonly byName: Map<string, number> | undefined;
  private readonly byPair: Map<string, Map<string, number>> | undefined;

  constructor(public maxSize: number, withLookups = false) {
    if (withLookups) {
      this.byName = new Map();
      this.byPair = new Map();
    }
  }

  get length(): number {
    return this.count;
  }

  /** The name of the entry at 1-based dynamic `index` (1 = newest), or undefined. */
  name(index: number): string | undefined {
    if (index < 1 || index > this.count) return undefined;
    return this.names[(this.head + this.count - index) & (this.names.length - 1)];
  }

  /** The value of the entry at 1-based dynamic `index`; call only with a valid index. */
  value(index: number): string {
    return this.values[(this.head + this.count - index) & (this.names.length - 1)]!;
  }

  /** The tag stored with the entry at `index`; call only with a valid index. */
  tag(index: number): number {
    return this.tags[(this.head + this.count - index) & (this.names.length - 1)]!;
  }

  /**
   * Adds an entry, evicting the oldest until it fits. An entry larger than the whole
   * table empties it and is not added (RFC 7541 §4.4).
   */
  add(name: string, value: string, tag = 0): void {
    const entrySize = name.length + value.length + entryOverhead;
    if (entrySize > this.maxSize) {
      this.evictTo(0);
      return;
    }
    this.evictTo(this.maxSize - entrySize);
    if (this.count === this.names.length) this.grow();
    const at = (this.head + this.count) & (this.names.length - 1);
    this.names[at] = name;
    this.values[at] = value;
    this.tags[at] = tag;
    this.count++;
    this.size += entrySize;
    const id = ++this.inserted;
    if (this.byName !== undefined) {
      this.byName.set(name, id);
      let values = this.byPair!.get(name);
      if (values === undefined) this.byPair!.set(name, (values = new Map()));
      values.set(value, id);
    }
  }

  /** A new maximum size (a dynamic table size update); evicts until the table fits. */
  setMaxSize(maxSize: number): void {
    this.maxSize = maxSize;
    this.evictTo(maxSize);
  }

  /** Dynamic index of the newest entry named `name`, or 0. Needs lookups. */
  findName(name: string): number {
    const id = this.byName?.get(name);
    return id === undefined ? 0 : this.inserted - id + 1;
  }

  /** Dynamic index of the newest entry `name: value`, or 0. Needs lookups. */
  findPair(name: string, value: string): number {
    const id = this.byPair?.get(name)?.get(value);
    return id === undefined ? 0 : this.inserted - id + 1;
  }

  private evictTo(limit: number): void {
    const mask = this.names.length - 1;
    while (this.size > limit && this.count > 0) {
      const at = this.head;
      const name = this.names[at]!;
      const value = this.values[at]!;
      this.size -= name.length + value.length + entryOverhead;
      if (this.byName !== undefined) {
        const id = this.inserted - this.count + 1;
        if (this.byName.get(name) === id) this.byName.delete(name);
        const values = this.byPair!.get(name)!;
        if (values.get(value) === id) {
          values.delete(value);
          if (values.size === 0) this.byPair!.delete(name);
        }
      }
      this.names[at] = "";
      this.values[at] = "";
      this.head = (at + 1) & mask;
      this.count--;
    }
  }

  private grow(): void {
    const capacity = this.names.length * 2;
    const names = new Array<string>(capacity);
    const values = new Array<string>(capacity);
    const tags = new Uint8Array(capacity);
    const mask = this.names.length - 1;
    for (let i = 0; i < this.count; i++) {
      names[i] = this.names[(this.head + i) & mask]!;
      values[i] = this.values[(this.head + i) & mask]!;
      tags[i] = this.tags[(this.head + i) & mask]!;
    }
    this.names = names;
    this.values = values;
    this.tags = tags;
    this.head = 0;
  }
}
