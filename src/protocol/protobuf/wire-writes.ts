/**
 * Wire primitives: varints, fixed-width integers, floats, raw bytes, tags, written at
 * the state's position. Pure: no node: imports. They never grow the buffer: the plan
 * has already made it exactly as large as the message.
 */
import type { EncodeState } from "./encode-state.js";

/** Bytes of `n` (an unsigned 32-bit integer) as a varint. */
export function varint32Size(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  return 5;
}

/** Bytes of the 64-bit value with unsigned 32-bit words `lo` and `hi` as a varint. */
export function varint64Size(lo: number, hi: number): number {
  if (hi === 0) return varint32Size(lo);
  if (hi < 0x8) return 5;
  if (hi < 0x400) return 6;
  if (hi < 0x20000) return 7;
  if (hi < 0x1000000) return 8;
  if (hi < 0x80000000) return 9;
  return 10;
}

/** Writes `n`, an unsigned 32-bit integer, as a varint. */
export function writeVarint32(st: EncodeState, n: number): void {
  const buf = st.buf;
  let pos = st.pos;
  while (n > 0x7f) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  st.pos = pos;
}

/** Writes the 64-bit value with unsigned 32-bit words `lo` and `hi` as a varint. */
export function writeVarint64(st: EncodeState, lo: number, hi: number): void {
  const buf = st.buf;
  let pos = st.pos;
  while (hi !== 0 || lo > 0x7f) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  st.pos = pos;
}

/** Writes a signed 32-bit integer as protobuf's int32 varint: negative values are
 *  sign-extended to 64 bits, so they always take 10 bytes. */
export function writeInt32Varint(st: EncodeState, n: number): void {
  if (n >= 0) writeVarint32(st, n);
  else writeVarint64(st, n >>> 0, 0xffffffff);
}

/** Bytes of a signed 32-bit integer as protobuf's int32 varint. */
export function int32VarintSize(n: number): number {
  return n >= 0 ? varint32Size(n) : 10;
}

/** Writes 32 bits little-endian; `n` may be signed or unsigned. */
export function writeFixed32(st: EncodeState, n: number): void {
  const buf = st.buf;
  const pos = st.pos;
  buf[pos] = n;
  buf[pos + 1] = n >>> 8;
  buf[pos + 2] = n >>> 16;
  buf[pos + 3] = n >>> 24;
  st.pos = pos + 4;
}

/** Writes 64 bits little-endian from two 32-bit words. */
export function writeFixed64(st: EncodeState, lo: number, hi: number): void {
  writeFixed32(st, lo);
  writeFixed32(st, hi);
}

// Floats go through typed-array scratch space in the host's byte order, which is
// cheaper than a DataView per output buffer.
const float64Scratch = new Float64Array(1);
const float32Scratch = new Float32Array(1);
const float64Bytes = new Uint8Array(float64Scratch.buffer);
const float32Bytes = new Uint8Array(float32Scratch.buffer);
const hostIsLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Writes an IEEE 754 double, little-endian, with the NaN payload the value carries. */
export function writeDouble(st: EncodeState, n: number): void {
  float64Scratch[0] = n;
  copyLittleEndian(st, float64Bytes);
}

/** Writes an IEEE 754 single, little-endian (the value rounded like Math.fround). */
export function writeFloat(st: EncodeState, n: number): void {
  float32Scratch[0] = n;
  copyLittleEndian(st, float32Bytes);
}

function copyLittleEndian(st: EncodeState, bytes: Uint8Array): void {
  const buf = st.buf;
  const pos = st.pos;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    buf[pos + i] = bytes[hostIsLittleEndian ? i : n - 1 - i] ?? 0;
  }
  st.pos = pos + n;
}

/** Copies raw bytes. Very short runs are copied by hand: `set` costs more. */
export function writeBytesRaw(st: EncodeState, bytes: Uint8Array): void {
  const n = bytes.length;
  const pos = st.pos;
  if (n < 8) {
    const buf = st.buf;
    for (let i = 0; i < n; i++) buf[pos + i] = bytes[i] ?? 0;
  } else {
    st.buf.set(bytes, pos);
  }
  st.pos = pos + n;
}

/** A field tag: `((fieldNo << 3) | wireType) >>> 0`, as protobuf-es computes it. */
export function makeTag(fieldNo: number, wireType: number): number {
  return ((fieldNo << 3) | wireType) >>> 0;
}
