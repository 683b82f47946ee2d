/**
 * The 5-byte gRPC message frame: 1 flag byte (bit 0: compressed; bit 7: gRPC-Web
 * trailers) + 4-byte big-endian length + payload. Pure: no node: imports.
 * The decoder checks each declared length against its limit before buffering a byte
 * of the payload, so an oversized message costs nothing to refuse.
 */

import { allocateOutput } from "./protobuf/output-pool.js";

export const frameHeaderBytes = 5;
export const flagCompressed = 0x01;
export const flagTrailers = 0x80;

/** Frames one message. */
export function encodeFrame(payload: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(frameHeaderBytes + payload.length);
  out[0] = flags;
  const n = payload.length;
  out[1] = n >>> 24;
  out[2] = (n >>> 16) & 0xff;
  out[3] = (n >>> 8) & 0xff;
  out[4] = n & 0xff;
  out.set(payload, frameHeaderBytes);
  return out;
}

/** Writes a frame header for a payload of `length` bytes into `out` at `offset`. */
export function writeFrameHeader(out: Uint8Array, offset: number, flags: number, length: number): void {
  out[offset] = flags;
  out[offset + 1] = length >>> 24;
  out[offset + 2] = (length >>> 16) & 0xff;
  out[offset + 3] = (length >>> 8) & 0xff;
  out[offset + 4] = length & 0xff;
}

/**
 * Memory lent for one whole frame, so that it is written where it leaves from: a
 * transport's write batch lends the bytes of a DATA frame's payload, and the encoder
 * writes the gRPC frame there, with no copy (MessageEncoder.encodeFramedTo).
 */
export interface FrameTarget {
  /**
   * Room for exactly `bytes` bytes, committed to be sent as they stand once written:
   * their offset in `frameBuffer`, or -1 when there is none now (the caller writes
   * elsewhere). Every one of the bytes must be written before anything else runs.
   */
  reserveFrame(bytes: number): number;
  /** The memory reserveFrame's offsets refer to; read it after each reserveFrame. */
  readonly frameBuffer: Uint8Array;
  /** Takes back the last reservation, before anything else was written: its bytes are not to be sent. */
  releaseFrame(): void;
}

export interface FrameSink {
  /**
   * One whole message: `bytes` from `start` to `end` (not all of `bytes`: a sink written
   * as `(flags, payload)` would read the whole chunk). `bytes` may be a received chunk,
   * handed over without a view of the message's own: copy what is kept past the call.
   */
  onFrame(flags: number, bytes: Uint8Array, start: number, end: number): void;
  /** A frame declared longer than the limit; no more frames follow. */
  onFrameTooLarge(length: number, limit: number): void;
}

/**
 * Incremental decoder: feed it chunks as they arrive (DATA frames do not align with
 * messages); it calls the sink once per whole message. Never buffers more than one
 * message of at most `maxMessageBytes`. A message split across chunks is joined in a
 * buffer of its own or, up to 4 KiB, carved from the encoder's shared 64 KiB output slab
 * (a fresh small ArrayBuffer costs ~1 µs, more than decoding the message). What the
 * sink keeps of it (a decoded bytes field) keeps that slab alive, as a message decoded
 * from a whole chunk keeps the chunk alive, and its `.buffer` must not be transferred.
 */
export class FrameDecoder {
  private header = new Uint8Array(frameHeaderBytes);
  private headerFill = 0;
  private flags = 0;
  private body: Uint8Array | undefined;
  private bodyFill = 0;
  private failed = false;

  constructor(private readonly sink: FrameSink, private readonly maxMessageBytes: number) {}

  /** True while a message is partly received: a stream ending now ends mid-message. */
  get midMessage(): boolean {
    return this.headerFill > 0 || this.body !== undefined;
  }

  push(chunk: Uint8Array): void {
    if (this.failed) return;
    let pos = 0;
    const len = chunk.length;
    while (pos < len) {
      if (this.body !== undefined) {
        const want = this.body.length - this.bodyFill;
        const take = Math.min(want, len - pos);
        this.body.set(chunk.subarray(pos, pos + take), this.bodyFill);
        this.bodyFill += take;
        pos += take;
        if (this.bodyFill === this.body.length) {
          const body = this.body;
          this.body = undefined;
          this.bodyFill = 0;
          this.sink.onFrame(this.flags, body, 0, body.length);
          if (this.failed) return; // the sink may stop() the decoder
        }
        continue;
      }
      let flags: number;
      let length: number;
      if (this.headerFill === 0 && len - pos >= frameHeaderBytes) {
        // Fast path: the whole header is in this chunk.
        flags = chunk[pos]!;
        length = ((chunk[pos + 1]! << 24) | (chunk[pos + 2]! << 16) | (chunk[pos + 3]! << 8) | chunk[pos + 4]!) >>> 0;
        pos += frameHeaderBytes;
      } else {
        const take = Math.min(frameHeaderBytes - this.headerFill, len - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < frameHeaderBytes) return;
        const h = this.header;
        flags = h[0]!;
        length = ((h[1]! << 24) | (h[2]! << 16) | (h[3]! << 8) | h[4]!) >>> 0;
        this.headerFill = 0;
      }
      if (length > this.maxMessageBytes) {
        this.failed = true;
        this.sink.onFrameTooLarge(length, this.maxMessageBytes);
        return;
      }
      if (len - pos >= length) {
        // Whole message in this chunk: hand out the chunk, no copy and no view.
        const start = pos;
        pos += length;
        this.sink.onFrame(flags, chunk, start, pos);
        if (this.failed) return;
      } else {
        this.flags = flags;
        this.body = allocateOutput(length, "pooled");
        this.bodyFill = 0;
      }
    }
  }

  /** Stops delivering frames (the call ended). */
  stop(): void {
    this.failed = true;
  }
}
