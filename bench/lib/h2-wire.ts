/**
 * The least HTTP/2 (RFC 9113) a bench load client needs: frames written and split
 * by hand, and request header blocks as HPACK literals without indexing and without
 * Huffman coding (RFC 7541 §6.2.2), so our encoder keeps no state. Decoding the
 * server's header blocks is left to grpc-ts's HPACK decoder: servers index.
 */
import { FrameFlag, FrameType } from "../../src/protocol/http2/index.js";

/** Frame header: 24-bit length, type, flags, 31-bit stream id (RFC 9113 §4.1). */
export const frameHeaderBytes = 9;

export interface H2Frame {
  type: number;
  flags: number;
  streamId: number;
  /** The whole payload, padding included (flow control counts it). */
  payload: Buffer;
}

/** One frame: header and payload in one buffer. */
export function encodeFrame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const length = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(frameHeaderBytes + length);
  out.writeUIntBE(length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(streamId & 0x7fffffff, 5);
  if (payload !== undefined) out.set(payload, frameHeaderBytes);
  return out;
}

/** A SETTINGS frame (not an ACK) with these identifier/value pairs. */
export function encodeSettings(settings: readonly (readonly [id: number, value: number])[]): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

/** Identifier/value pairs of a SETTINGS payload; a length not a multiple of 6 is a FRAME_SIZE_ERROR. */
export function parseSettings(payload: Uint8Array): [id: number, value: number][] {
  if (payload.length % 6 !== 0) throw new Error(`SETTINGS payload of ${payload.length} bytes is not a multiple of 6`);
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.length);
  const out: [number, number][] = [];
  for (let i = 0; i < payload.length; i += 6) out.push([view.readUInt16BE(i), view.readUInt32BE(i + 2)]);
  return out;
}

export function encodeWindowUpdate(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment & 0x7fffffff, 0);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function encodeGoaway(lastStreamId: number, errorCode: number): Buffer {
  const payload = Buffer.allocUnsafe(8);
  payload.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  payload.writeUInt32BE(errorCode, 4);
  return encodeFrame(FrameType.GOAWAY, 0, 0, payload);
}

/** Reads a 32-bit big-endian value at `offset` (WINDOW_UPDATE increments, error codes), the top bit cleared when `reserved`. */
export function readUint32(bytes: Uint8Array, offset: number, reserved: boolean): number {
  const value = ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
  return reserved ? value & 0x7fffffff : value;
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1), `flags` in the high bits of the first byte. */
function hpackInteger(value: number, prefixBits: number, flags: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [flags | value];
  const out = [flags | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** A raw (not Huffman-coded) string literal: H bit 0, 7-bit prefix length, the bytes. */
function hpackString(text: string): Buffer {
  const bytes = Buffer.from(text, "latin1");
  return Buffer.concat([Buffer.from(hpackInteger(bytes.length, 7, 0)), bytes]);
}

/**
 * A header block of "literal header field without indexing — new name" fields
 * (RFC 7541 §6.2.2, first byte 0x00): the decoder adds nothing to its dynamic
 * table, so the same block can be sent on every stream of every connection.
 */
export function encodeLiteralHeaderBlock(fields: readonly (readonly [name: string, value: string])[]): Buffer {
  return Buffer.concat(fields.flatMap(([name, value]) => [Buffer.from([0x00]), hpackString(name), hpackString(value)]));
}

/**
 * The header block fragment of a HEADERS frame's payload, without padding and the
 * priority fields (RFC 9113 §6.2); also unpads DATA (§6.1) when `type` is DATA.
 */
export function unpaddedContent(frame: H2Frame): Buffer {
  const { payload, flags } = frame;
  let start = 0;
  let end = payload.length;
  if ((flags & FrameFlag.PADDED) !== 0) {
    const padLength = payload[0];
    if (padLength === undefined || padLength >= payload.length) throw new Error(`frame type ${frame.type}: pad length ${padLength ?? "missing"} too large for ${payload.length} bytes`);
    start = 1;
    end -= padLength;
  }
  if (frame.type === FrameType.HEADERS && (flags & FrameFlag.PRIORITY) !== 0) start += 5;
  if (start > end) throw new Error(`frame type ${frame.type}: ${payload.length} bytes cannot hold its padding and priority`);
  return start === 0 && end === payload.length ? payload : payload.subarray(start, end);
}

/**
 * Splits a byte stream into frames; socket reads do not align with frames. Frames
 * longer than `maxFrameBytes` (our SETTINGS_MAX_FRAME_SIZE) are refused, as the
 * peer may not send them (RFC 9113 §4.2).
 */
export class H2FrameSplitter {
  private pending: Buffer | undefined;

  constructor(private readonly maxFrameBytes: number) {}

  /** Calls `onFrame` for each complete frame in what has arrived so far; payloads are views into the chunks, not copies. */
  push(chunk: Buffer, onFrame: (frame: H2Frame) => void): void {
    const buf = this.pending === undefined ? chunk : Buffer.concat([this.pending, chunk]);
    let offset = 0;
    while (buf.length - offset >= frameHeaderBytes) {
      const length = (buf[offset]! << 16) | (buf[offset + 1]! << 8) | buf[offset + 2]!;
      if (length > this.maxFrameBytes) throw new Error(`frame of ${length} bytes, more than the ${this.maxFrameBytes} allowed`);
      const end = offset + frameHeaderBytes + length;
      if (buf.length < end) break;
      onFrame({
        type: buf[offset + 3]!,
        flags: buf[offset + 4]!,
        streamId: readUint32(buf, offset + 5, true),
        payload: buf.subarray(offset + frameHeaderBytes, end),
      });
      offset = end;
    }
    // The rest is copied: keeping a view would pin the whole read buffer.
    this.pending = offset === buf.length ? undefined : Buffer.from(buf.subarray(offset));
  }
}
