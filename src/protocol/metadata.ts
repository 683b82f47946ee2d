/**
 * Metadata: the application's headers and trailers of a call. Keys are lowercase
 * `0-9 a-z _ - .`; keys ending in `-bin` carry bytes (base64 on the wire), all others
 * printable ASCII. Pure: no I/O, no node: imports.
 */
import { decodeBase64, encodeBase64 } from "./base64.js";

export type MetadataValue = string | Uint8Array;

const validKey = /^[0-9a-z_.-]+$/;
/** ASCII values: 0x20–0x7E (PROTOCOL-HTTP2.md, "ASCII-Value"). */
const validAsciiValue = /^[\x20-\x7e]*$/;

export function isBinaryKey(key: string): boolean {
  return key.endsWith("-bin");
}

/**
 * Keys the library itself writes and strips from received metadata. Applications may
 * send none of these nor any other `grpc-*` key (PROTOCOL-HTTP2.md reserves the
 * prefix); received grpc-* keys not listed here, such as `grpc-previous-rpc-attempts`,
 * stay visible.
 */
const reservedKeys = new Set([
  "content-type", "te", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding",
  "grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-message-type",
  "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host",
]);

/** grpc-* keys that applications do set: a server's retry pushback (gRFC A6) goes in its trailers. */
const applicationGrpcKeys = new Set(["grpc-retry-pushback-ms"]);

export function isReservedKey(key: string): boolean {
  return key.charCodeAt(0) === 58 /* ":" */ || reservedKeys.has(key);
}

/** A multimap from lowercase keys to values, in insertion order per key. */
export class Metadata implements Iterable<[string, MetadataValue]> {
  private readonly map = new Map<string, MetadataValue[]>();

  constructor(init?: Iterable<readonly [string, MetadataValue]> | Record<string, MetadataValue | readonly MetadataValue[]>) {
    if (init === undefined) return;
    const entries = Symbol.iterator in init
      ? (init as Iterable<readonly [string, MetadataValue]>)
      : Object.entries(init).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v as MetadataValue] as const]));
    for (const [key, value] of entries) this.append(key, value);
  }

  /** Replaces every value of `key`. Throws a TypeError for an invalid key or value. */
  set(key: string, value: MetadataValue): this {
    key = checkEntry(key, value);
    this.map.set(key, [value]);
    return this;
  }

  /** Adds a value to `key`, keeping the ones already there. */
  append(key: string, value: MetadataValue): this {
    key = checkEntry(key, value);
    const list = this.map.get(key);
    if (list === undefined) this.map.set(key, [value]);
    else list.push(value);
    return this;
  }

  /** The first value of `key`. */
  get(key: string): MetadataValue | undefined {
    return this.map.get(key.toLowerCase())?.[0];
  }

  /** The first value of a text key, or undefined (also for `-bin` keys). */
  getString(key: string): string | undefined {
    const value = this.get(key);
    return typeof value === "string" ? value : undefined;
  }

  /** The first value of a `-bin` key, or undefined. */
  getBinary(key: string): Uint8Array | undefined {
    const value = this.get(key);
    return typeof value === "string" ? undefined : value;
  }

  getAll(key: string): MetadataValue[] {
    return this.map.get(key.toLowerCase())?.slice() ?? [];
  }

  has(key: string): boolean {
    return this.map.has(key.toLowerCase());
  }

  delete(key: string): boolean {
    return this.map.delete(key.toLowerCase());
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  get size(): number {
    return this.map.size;
  }

  *[Symbol.iterator](): IterableIterator<[string, MetadataValue]> {
    for (const [key, values] of this.map) for (const value of values) yield [key, value];
  }

  /** Copies every entry of `other` into this one (appending). */
  merge(other: Metadata): this {
    for (const [key, values] of other.map) {
      const list = this.map.get(key);
      if (list === undefined) this.map.set(key, values.slice());
      else list.push(...values);
    }
    return this;
  }

  clone(): Metadata {
    return new Metadata().merge(this);
  }

  /** A plain object for logs: `-bin` values shown as base64. */
  toJSON(): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [key, values] of this.map) out[key] = values.map((v) => (typeof v === "string" ? v : encodeBase64(v)));
    return out;
  }

  /** @internal Adds an already validated entry without checks (received headers). */
  addTrusted(key: string, value: MetadataValue): void {
    const list = this.map.get(key);
    if (list === undefined) this.map.set(key, [value]);
    else list.push(value);
  }
}

function checkEntry(key: string, value: MetadataValue): string {
  const lower = key.toLowerCase();
  if (!validKey.test(lower)) throw new TypeError(`metadata key ${JSON.stringify(key)} has characters outside 0-9 a-z _ - .`);
  if (isReservedKey(lower) || (lower.startsWith("grpc-") && !applicationGrpcKeys.has(lower))) throw new TypeError(`metadata key ${JSON.stringify(key)} is reserved for the gRPC library`);
  if (isBinaryKey(lower)) {
    if (!(value instanceof Uint8Array)) throw new TypeError(`metadata key ${JSON.stringify(key)} ends in -bin and needs a Uint8Array value`);
  } else if (typeof value !== "string" || !validAsciiValue.test(value)) {
    throw new TypeError(`metadata value of ${JSON.stringify(key)} must be a string of printable ASCII (0x20-0x7E)`);
  }
  return lower;
}

/** HTTP/2 header values as node:http2 and our transports exchange them. */
export type HeaderValue = string | string[] | undefined;
export type Headers = Record<string, HeaderValue>;

/**
 * Builds Headers from a flat [name, value, name, value, …] list as received, keeping a
 * repeated name as an array: node:http2's own header object joins them with ", ",
 * which would turn two metadata values into one.
 */
export function headersFromRawPairs(raw: readonly string[]): Headers {
  // No prototype: a header named "constructor" or "__proto__" is just a header.
  const headers = Object.create(null) as Headers;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i]!;
    const value = raw[i + 1]!;
    const existing = headers[key];
    if (existing === undefined) headers[key] = value;
    else if (typeof existing === "string") headers[key] = [existing, value];
    else existing.push(value);
  }
  return headers;
}

/**
 * Builds Metadata from received headers, leaving out pseudo-headers and reserved keys.
 * `-bin` values are split on "," (peers may join repeated values) and base64-decoded,
 * padded or not; an undecodable value is dropped rather than failing the call.
 */
export function metadataFromHeaders(headers: Headers): Metadata {
  const md = new Metadata();
  for (const key in headers) {
    if (isReservedKey(key)) continue;
    const raw = headers[key];
    if (raw === undefined) continue;
    if (isBinaryKey(key)) {
      for (const value of typeof raw === "string" ? [raw] : raw) {
        for (const part of value.split(",")) {
          const bytes = decodeBase64(part.trim());
          if (bytes !== undefined) md.addTrusted(key, bytes);
        }
      }
    } else if (typeof raw === "string") {
      md.addTrusted(key, raw);
    } else {
      for (const value of raw) md.addTrusted(key, value);
    }
  }
  return md;
}

/** Writes metadata into an outgoing header object: `-bin` values as unpadded base64. */
export function metadataToHeaders(md: Metadata, headers: Headers): Headers {
  for (const key of md.keys()) {
    const values = md.getAll(key);
    const wire = values.map((v) => (typeof v === "string" ? v : encodeBase64(v, false)));
    headers[key] = wire.length === 1 ? wire[0] : wire;
  }
  return headers;
}
