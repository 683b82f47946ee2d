/**
 * The least gRPC a bare node:http2 peer needs: 5-byte message frames and the three
 * bench messages (bench/proto/bench.proto) encoded by hand. Deliberately independent
 * of grpc-ts's src/, so the bare server and client measure node:http2, not our code.
 */

/** One framed message: flag 0, big-endian length, payload. */
export function frameMessage(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + payload.length);
  out[0] = 0;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

/** Concatenated frames of several messages: one request body for h2load's -d. */
export function frameMessages(payloads: readonly Uint8Array[]): Buffer {
  return Buffer.concat(payloads.map(frameMessage));
}

function varintBytes(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** grpcts.bench.Payload { bytes body = 1 }. */
export function encodePayload(body: Uint8Array): Buffer {
  if (body.length === 0) return Buffer.alloc(0);
  const head = [0x0a, ...varintBytes(body.length)];
  const out = Buffer.allocUnsafe(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

/** grpcts.bench.StreamRequest { int32 count = 1; int32 size = 2 }. */
export function encodeStreamRequest(count: number, size: number): Buffer {
  return Buffer.from([0x08, ...varintBytes(count), 0x10, ...varintBytes(size)]);
}

/** grpcts.bench.Summary { int32 count = 1; int64 bytes = 2 }. */
export function encodeSummary(count: number, bytes: number): Buffer {
  return Buffer.from([0x08, ...varintBytes(count), 0x10, ...varintBytes(bytes)]);
}

/** Reads the varint fields 1 and 2 of StreamRequest or Summary; other fields are skipped. */
export function decodeTwoVarints(bytes: Uint8Array): [number, number] {
  const fields: [number, number] = [0, 0];
  let i = 0;
  const readVarint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const b = bytes[i++];
      if (b === undefined) throw new Error("truncated varint");
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
  };
  while (i < bytes.length) {
    const tag = readVarint();
    const field = Math.floor(tag / 8);
    switch (tag & 7) {
      case 0: {
        const value = readVarint();
        if (field === 1 || field === 2) fields[field - 1] = value;
        break;
      }
      case 2:
        i += readVarint();
        break;
      default:
        throw new Error(`unexpected wire type ${tag & 7}`);
    }
  }
  return fields;
}

/** Length of the `body` field of an encoded Payload (0 when absent). */
export function payloadBodyLength(bytes: Uint8Array): number {
  if (bytes.length === 0) return 0;
  if (bytes[0] !== 0x0a) throw new Error("not a Payload");
  let length = 0;
  let scale = 1;
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i]!;
    length += (b & 0x7f) * scale;
    if (b < 0x80) return length;
    scale *= 128;
  }
  throw new Error("truncated Payload");
}

/**
 * Splits a byte stream into message payloads; DATA chunks do not align with frames.
 * Compressed frames are refused: nobody in the bench compresses.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onMessage: (payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (buf.length >= 5) {
      if (buf[0] !== 0) throw new Error(`unexpected frame flags ${buf[0]}`);
      const length = buf.readUInt32BE(1);
      if (buf.length < 5 + length) break;
      this.onMessage(buf.subarray(5, 5 + length));
      buf = buf.subarray(5 + length);
    }
    this.pending = buf;
  }

  /** True while part of a message is buffered. */
  get midMessage(): boolean {
    return this.pending.length > 0;
  }
}
