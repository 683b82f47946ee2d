/**
 * HPACK decoder (RFC 7541): header blocks to header objects shaped as node:http2
 * gives them (pseudo-headers included, repeated names as arrays, cookies joined).
 * Errors are values: a block that breaks HPACK is a COMPRESSION_ERROR for the whole
 * connection; a list over SETTINGS_MAX_HEADER_LIST_SIZE or a field that breaks the
 * HTTP/2 field rules (RFC 9113 §8.2) only spoils its own stream, and the block is still
 * decoded to the end so the dynamic table stays in step. Pure: no node: imports.
 */
import { defaultHeaderTableSize } from "./constants.js";
import { entryOverhead, HpackDynamicTable } from "./hpack-dynamic-table.js";
import { HpackInput } from "./hpack-literal.js";
import { staticTable, staticTableLength } from "./hpack-static-table.js";

/** Decoded header fields; keys are lower-case names, pseudo-headers included. */
export type DecodedHeaders = Record<string, string | string[]>;

export type HpackDecodeResult =
  | {
      ok: true;
      headers: DecodedHeaders;
      /** Σ(name + value + 32) over every field of the block (RFC 9113 §6.5.2). */
      headerListSize: number;
      /** The list passed the limit; `headers` holds only the fields before it. */
      listTooLarge: boolean;
      /** Why the fields break RFC 9113 §8.2 (a malformed message: stream PROTOCOL_ERROR), if they do. */
      malformed: string | undefined;
      /** Which pseudo-headers the block holds (`pseudoHeaderBits`), so rules need not walk the fields. */
      pseudoHeaders: number;
    }
  | { ok: false; message: string };

/** A bit per pseudo-header RFC 9113 defines (and RFC 8441's :protocol); `other` for any other. */
export const pseudoHeaderBits = { method: 1, scheme: 2, authority: 4, path: 8, status: 16, protocol: 32, other: 64 } as const;

function pseudoHeaderBit(name: string): number {
  switch (name) {
    case ":method": return pseudoHeaderBits.method;
    case ":scheme": return pseudoHeaderBits.scheme;
    case ":authority": return pseudoHeaderBits.authority;
    case ":path": return pseudoHeaderBits.path;
    case ":status": return pseudoHeaderBits.status;
    case ":protocol": return pseudoHeaderBits.protocol;
    default: return pseudoHeaderBits.other;
  }
}

/** Field validity kept with each dynamic table entry, so an indexed field is not checked again. */
const tagValid = 0;
const tagBadName = 1;
const tagBadValue = 2;

export interface HpackDecoderOptions {
  /** Our SETTINGS_HEADER_TABLE_SIZE: the largest table the peer's encoder may use. Default 4096. */
  maxTableSize?: number;
  /** Our SETTINGS_MAX_HEADER_LIST_SIZE. Default unlimited. */
  maxHeaderListSize?: number;
}

export class HpackDecoder {
  private readonly table: HpackDynamicTable;
  private readonly input = new HpackInput();
  /** The table size the peer may raise to with a size update. */
  maxTableSize: number;
  maxHeaderListSize: number;

  constructor(options: HpackDecoderOptions = {}) {
    this.maxTableSize = options.maxTableSize ?? defaultHeaderTableSize;
    this.maxHeaderListSize = options.maxHeaderListSize ?? Infinity;
    this.table = new HpackDynamicTable(this.maxTableSize);
  }

  /** The dynamic table's size in octets (for tests and diagnostics). */
  get tableSize(): number {
    return this.table.size;
  }

  /** The entry at 1-based dynamic index (1 = newest), as [name, value]. */
  tableEntry(index: number): [string, string] | undefined {
    const name = this.table.name(index);
    return name === undefined ? undefined : [name, this.table.value(index)];
  }

  get tableLength(): number {
    return this.table.length;
  }

  /** Decodes one complete header block (HEADERS plus its CONTINUATIONs, joined). */
  decode(block: Uint8Array): HpackDecodeResult {
    const input = this.input;
    const table = this.table;
    input.reset(block);
    const headers: DecodedHeaders = Object.create(null) as DecodedHeaders;
    const limit = this.maxHeaderListSize;
    let size = 0;
    let listTooLarge = false;
    let malformed: string | undefined;
    let sawField = false;
    let sawRegular = false;
    let pseudoHeaders = 0;
    const bytes = block;
    while (input.pos < bytes.length) {
      const first = bytes[input.pos]!;
      let name: string | undefined;
      let value: string | undefined;
      let tag = tagValid;
      if (first >= 0x80) {
        // Indexed field (§6.1).
        const index = input.integer(7);
        if (index <= 0) return fail(index === 0 ? "indexed field with index 0" : "truncated index");
        if (index <= staticTableLength) {
          const entry = staticTable[index - 1]!;
          name = entry[0];
          value = entry[1];
        } else {
          name = table.name(index - staticTableLength);
          if (name === undefined) return fail(`index ${index} is past the end of the table`);
          value = table.value(index - staticTableLength);
          tag = table.tag(index - staticTableLength);
        }
      } else if (first >= 0x20 && first < 0x40) {
        // Dynamic table size update (§6.3): only before the first field.
        const newSize = input.integer(5);
        if (newSize < 0) return fail("truncated table size update");
        if (sawField) return fail("table size update after a field");
        if (newSize > this.maxTableSize) return fail(`table size update to ${newSize}, above the ${this.maxTableSize} allowed`);
        table.setMaxSize(newSize);
        continue;
      } else {
        // Literal: with incremental indexing (01), without (0000) or never indexed (0001).
        const indexing = first >= 0x40;
        const nameIndex = input.integer(indexing ? 6 : 4);
        if (nameIndex < 0) return fail("truncated name index");
        if (nameIndex === 0) {
          name = input.string();
          if (name === undefined) return fail("bad name literal");
          if (!validName(name)) tag = tagBadName;
        } else if (nameIndex <= staticTableLength) {
          name = staticTable[nameIndex - 1]![0];
        } else {
          name = table.name(nameIndex - staticTableLength);
          if (name === undefined) return fail(`name index ${nameIndex} is past the end of the table`);
          tag = table.tag(nameIndex - staticTableLength) & tagBadName;
        }
        if (listTooLarge && !indexing) {
          if (!input.skipString()) return fail("bad value literal");
          continue;
        }
        value = input.string();
        if (value === undefined) return fail("bad value literal");
        if (!validValue(value)) tag |= tagBadValue;
        if (indexing) table.add(name, value, tag);
      }
      sawField = true;
      if (listTooLarge) continue;
      size += name.length + value.length + entryOverhead;
      if (size > limit) {
        listTooLarge = true;
        continue;
      }
      if (tag !== tagValid && malformed === undefined) {
        malformed = (tag & tagBadName) !== 0 ? `invalid header name ${JSON.stringify(name)}` : `invalid characters in the value of ${name}`;
      }
      if (name.charCodeAt(0) === 0x3a) {
        if (sawRegular && malformed === undefined) malformed = `pseudo-header ${name} after a regular header`;
        if (headers[name] !== undefined) {
          malformed ??= `repeated pseudo-header ${name}`;
          continue;
        }
        pseudoHeaders |= pseudoHeaderBit(name);
        headers[name] = value;
        continue;
      }
      sawRegular = true;
      const existing = headers[name];
      if (existing === undefined) headers[name] = name === "set-cookie" ? [value] : value;
      else if (name === "cookie") headers[name] = `${existing as string}; ${value}`;
      else if (typeof existing === "string") headers[name] = [existing, value];
      else existing.push(value);
    }
    return { ok: true, headers, headerListSize: size, listTooLarge, malformed, pseudoHeaders };
  }
}

function fail(message: string): HpackDecodeResult {
  return { ok: false, message };
}

/**
 * Characters allowed in a field name (RFC 9113 §8.2.1): visible ASCII token characters,
 * no upper case; ":" only as the first character of a pseudo-header.
 */
const nameChar = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz") nameChar[c.charCodeAt(0)] = 1;

function validName(name: string): boolean {
  const length = name.length;
  if (length === 0) return false;
  let i = name.charCodeAt(0) === 0x3a ? 1 : 0;
  if (i === 1 && length === 1) return false;
  for (; i < length; i++) if (nameChar[name.charCodeAt(i)] !== 1) return false;
  return true;
}

/** A field value may not hold NUL, CR or LF (RFC 9113 §8.2.1). */
function validValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x00 || c === 0x0a || c === 0x0d) return false;
  }
  return true;
}
