/**
 * HPACK primitives (RFC 7541 §5): prefix-coded integers and string literals, raw or
 * Huffman-coded, read from a cursor over one header block and written to a growable
 * output. Pure: no node: imports. Reading never throws: malformed input yields -1 or
 * undefined, which the decoder turns into COMPRESSION_ERROR.
 */
import { huffmanDecode, huffmanEncode, huffmanEncodedLength, latin1String } from "./hpack-huffman.js";

/** Integers above this are refused: nothing in HPACK needs more than 32 bits. */
export const maxHpackInteger = 0xffffffff;

/** How many recently decoded literals are kept, and the longest one worth keeping. */
const recentLiterals = 8;
const maxRecentLiteralLength = 64;

/** A read position over one header block. */
export class HpackInput {
  bytes: Uint8Array = new Uint8Array(0);
  pos = 0;
  /**
   * Literals decoded lately, as their encoded bytes (first byte: 1 when Huffman-coded)
   * and the string. Encoders re-send some fields as literals on every request (nghttp2
   * never indexes :path or content-length), so a repeat is a byte compare, not a decode.
   */
  private readonly recentBytes: Uint8Array[] = [];
  private readonly recentStrings: string[] = [];
  private recentNext = 0;

  reset(bytes: Uint8Array): void {
    this.bytes = bytes;
    this.pos = 0;
  }

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /**
   * An integer with an N-bit prefix (RFC 7541 §5.1), starting at the current byte,
   * whose high 8-N bits are the representation's flags. -1 when truncated or too large.
   */
  integer(prefixBits: number): number {
    const bytes = this.bytes;
    if (this.pos >= bytes.length) return -1;
    const max = (1 << prefixBits) - 1;
    let value = bytes[this.pos++]! & max;
    if (value < max) return value;
    let scale = 1;
    for (;;) {
      if (this.pos >= bytes.length) return -1;
      const b = bytes[this.pos++]!;
      value += (b & 0x7f) * scale;
      if (value > maxHpackInteger) return -1;
      if ((b & 0x80) === 0) return value;
      scale *= 128;
      // A run of 0x80 continuation bytes adds nothing but must still end (RFC 7541 §5.1).
      if (scale > 2 ** 35) return -1;
    }
  }

  /** A string literal (RFC 7541 §5.2); undefined when truncated or badly Huffman-coded. */
  string(): string | undefined {
    const bytes = this.bytes;
    if (this.pos >= bytes.length) return undefined;
    const huffman = (bytes[this.pos]! & 0x80) !== 0;
    const length = this.integer(7);
    if (length < 0 || length > bytes.length - this.pos) return undefined;
    const start = this.pos;
    this.pos += length;
    if (length > maxRecentLiteralLength) return huffman ? huffmanDecode(bytes.subarray(start, start + length)) : latin1String(bytes, start, start + length);
    const flag = huffman ? 1 : 0;
    const recent = this.recentBytes;
    search: for (let r = 0; r < recent.length; r++) {
      const candidate = recent[r]!;
      if (candidate.length !== length + 1 || candidate[0] !== flag) continue;
      for (let i = 0; i < length; i++) if (candidate[i + 1] !== bytes[start + i]) continue search;
      return this.recentStrings[r];
    }
    const decoded = huffman ? huffmanDecode(bytes.subarray(start, start + length)) : latin1String(bytes, start, start + length);
    if (decoded === undefined) return undefined;
    const key = new Uint8Array(length + 1);
    key[0] = flag;
    key.set(bytes.subarray(start, start + length), 1);
    const slot = this.recentNext;
    this.recentNext = (slot + 1) % recentLiterals;
    recent[slot] = key;
    this.recentStrings[slot] = decoded;
    return decoded;
  }

  /** Steps over a string literal without decoding it; false when truncated. */
  skipString(): boolean {
    if (this.pos >= this.bytes.length) return false;
    const length = this.integer(7);
    if (length < 0 || length > this.bytes.length - this.pos) return false;
    this.pos += length;
    return true;
  }
}

/** A growable byte buffer that header blocks are encoded into. */
export class HpackOutput {
  bytes = new Uint8Array(1024);
  length = 0;

  reset(): void {
    this.length = 0;
  }

  /** The bytes written since `reset`, as a view valid until the next write. */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }

  ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  /**
   * An integer with an N-bit prefix; `flags` are the representation bits above the
   * prefix in the first byte (0x80 indexed, 0x40 incremental indexing, 0x20 size update…).
   */
  integer(value: number, prefixBits: number, flags: number): void {
    this.ensure(6);
    const max = (1 << prefixBits) - 1;
    const bytes = this.bytes;
    if (value < max) {
      bytes[this.length++] = flags | value;
      return;
    }
    bytes[this.length++] = flags | max;
    let rest = value - max;
    while (rest >= 128) {
      bytes[this.length++] = (rest % 128) | 0x80;
      rest = Math.floor(rest / 128);
    }
    bytes[this.length++] = rest;
  }

  /** A string literal, Huffman-coded when that is shorter (or as `huffman` forces). */
  string(s: string, huffman?: boolean): void {
    const huffmanLength = huffman === false ? s.length + 1 : huffmanEncodedLength(s);
    if (huffman === true || huffmanLength < s.length) {
      this.integer(huffmanLength, 7, 0x80);
      this.ensure(huffmanLength);
      this.length = huffmanEncode(s, this.bytes, this.length);
      return;
    }
    this.integer(s.length, 7, 0);
    this.ensure(s.length);
    const bytes = this.bytes;
    let at = this.length;
    for (let i = 0; i < s.length; i++) bytes[at++] = s.charCodeAt(i);
    this.length = at;
  }
}
