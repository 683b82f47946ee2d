/**
 * Message compression as gRPC names it (grpc/grpc doc/compression.md): a registry of
 * codecs by grpc-encoding name. Pure: the node:zlib codecs live in src/compression/.
 */

export interface Codec {
  /** The grpc-encoding name: "gzip", "deflate", … */
  readonly name: string;
  compress(data: Uint8Array): Promise<Uint8Array>;
  /**
   * Decompresses, failing with a `RangeError` once the output passes `maxBytes`
   * (limits apply to decompressed size), or any other error for corrupt input.
   */
  decompress(data: Uint8Array, maxBytes: number): Promise<Uint8Array>;
}

export const identity = "identity";

/** The codecs a side supports, in preference order. */
export class CodecRegistry {
  private readonly byName = new Map<string, Codec>();
  /** The grpc-accept-encoding header value this side advertises. */
  acceptEncoding = identity;

  constructor(codecs: readonly Codec[] = []) {
    for (const codec of codecs) this.add(codec);
  }

  add(codec: Codec): this {
    this.byName.set(codec.name, codec);
    this.acceptEncoding = [...this.byName.keys(), identity].join(",");
    return this;
  }

  get(name: string): Codec | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

/** Splits a grpc-accept-encoding value into names. */
export function parseAcceptEncoding(value: string | undefined): string[] {
  if (value === undefined || value === "") return [];
  return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
}
