/**
 * HPACK encoder (RFC 7541): header objects to header blocks. Fields already in the
 * static or dynamic table cost one byte; new fields are added to the dynamic table so
 * the next request's copy costs one or two. Sensitive values (credentials, cookies)
 * are never indexed, anywhere (RFC 7541 §7.1.3), and values that change on every call
 * are sent without indexing so they do not churn the table. Pure: no node: imports.
 */
import { defaultHeaderTableSize } from "./constants.js";
import { HpackDynamicTable } from "./hpack-dynamic-table.js";
import { HpackOutput } from "./hpack-literal.js";
import { staticNameIndex, staticPairIndex, staticTableLength } from "./hpack-static-table.js";

/** Header fields to encode: pseudo-headers first, whatever the key order. Undefined values are skipped. */
export type HeaderFields = Record<string, string | readonly string[] | undefined>;

/** Never indexed: credentials (RFC 7541 §7.1.3) and cookies. */
const defaultSensitive = new Set(["authorization", "proxy-authorization", "cookie", "set-cookie"]);
/** Sent without indexing: values that differ on nearly every message. */
const unindexed = new Set(["grpc-timeout", "content-length", "grpc-message", "grpc-status-details-bin", "date", "etag", "last-modified"]);

export interface HpackEncoderOptions {
  /**
   * The most dynamic table we use, whatever the peer allows (its
   * SETTINGS_HEADER_TABLE_SIZE bounds it further). Default 4096.
   */
  maxTableSize?: number;
  /** More header names whose values are never indexed (lower case). */
  sensitiveHeaders?: Iterable<string>;
  /** Huffman-code strings where that is shorter (default true); false sends every string raw. */
  huffman?: boolean;
}

export class HpackEncoder {
  private readonly table: HpackDynamicTable;
  private readonly out = new HpackOutput();
  private readonly ownLimit: number;
  private readonly sensitive: Set<string>;
  /** Smallest table size since the last block, to be signalled first (RFC 7541 §4.2), or -1. */
  private pendingMinSize = -1;
  private readonly huffman: false | undefined;

  constructor(options: HpackEncoderOptions = {}) {
    this.ownLimit = options.maxTableSize ?? defaultHeaderTableSize;
    this.table = new HpackDynamicTable(Math.min(this.ownLimit, defaultHeaderTableSize), true);
    this.huffman = options.huffman === false ? false : undefined;
    this.sensitive = options.sensitiveHeaders === undefined ? defaultSensitive : new Set([...defaultSensitive, ...options.sensitiveHeaders]);
  }

  /** The dynamic table's size in octets (for tests and diagnostics). */
  get tableSize(): number {
    return this.table.size;
  }

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE. The change is signalled at the start of the
   * next header block, as RFC 7541 §6.3 requires.
   */
  setPeerMaxTableSize(peerMax: number): void {
    const size = Math.min(peerMax, this.ownLimit);
    if (size === this.table.maxSize && this.pendingMinSize === -1) return;
    this.pendingMinSize = this.pendingMinSize === -1 ? Math.min(size, this.table.maxSize) : Math.min(this.pendingMinSize, size);
    this.table.setMaxSize(size);
  }

  /**
   * Encodes one header block. The result is a view into the encoder's buffer, valid
   * until the next call: copy it (a frame writer does) before encoding again.
   */
  encode(headers: HeaderFields): Uint8Array {
    const out = this.out;
    out.reset();
    if (this.pendingMinSize !== -1) {
      if (this.pendingMinSize < this.table.maxSize) out.integer(this.pendingMinSize, 5, 0x20);
      out.integer(this.table.maxSize, 5, 0x20);
      this.pendingMinSize = -1;
    }
    for (const key in headers) {
      if (key.charCodeAt(0) === 0x3a) this.encodeValues(key, headers[key]);
    }
    for (const key in headers) {
      if (key.charCodeAt(0) !== 0x3a) this.encodeValues(key.toLowerCase(), headers[key]);
    }
    return out.view();
  }

  private encodeValues(name: string, value: string | readonly string[] | undefined): void {
    if (value === undefined) return;
    if (typeof value === "string") this.encodeField(name, value);
    else for (const v of value) this.encodeField(name, v);
  }

  /** One field, in the cheapest representation its name allows (RFC 7541 §6). */
  private encodeField(name: string, value: string): void {
    const out = this.out;
    if (this.sensitive.has(name)) {
      this.literal(name, value, 0x10, 4);
      return;
    }
    const staticPair = staticPairIndex(name, value);
    if (staticPair !== 0) {
      out.integer(staticPair, 7, 0x80);
      return;
    }
    const table = this.table;
    const dynamicPair = table.findPair(name, value);
    if (dynamicPair !== 0) {
      out.integer(staticTableLength + dynamicPair, 7, 0x80);
      return;
    }
    // Worth a table slot: bounded in size, and not a value that changes every time. A
    // changing value is still indexed once so later copies can name it by index.
    const fits = name.length + value.length + 32 <= table.maxSize >>> 1;
    if (fits && (!unindexed.has(name) || (table.findName(name) === 0 && staticNameIndex(name) === 0))) {
      this.literal(name, value, 0x40, 6);
      table.add(name, value);
      return;
    }
    this.literal(name, value, 0x00, 4);
  }

  /** A literal field: `flags` and `prefixBits` select with, without or never indexing. */
  private literal(name: string, value: string, flags: number, prefixBits: number): void {
    const out = this.out;
    let nameIndex = staticNameIndex(name);
    if (nameIndex === 0) {
      const dynamic = this.table.findName(name);
      if (dynamic !== 0) nameIndex = staticTableLength + dynamic;
    }
    out.integer(nameIndex, prefixBits, flags);
    if (nameIndex === 0) out.string(name, this.huffman);
    out.string(value, this.huffman);
  }
}
