/**
 * Wire primitives for the compiled decoder: varints, fixed-width numbers, lengths,
 * tags and skipped (unknown) fields, read from one buffer with exactly the limits
 * protobuf-es's BinaryReader applies. Pure: no node: imports.
 * Sub-message ends are not bounds here, only the buffer's end is: a field that runs
 * past its message's length is read, as fromBinary reads it.
 */
import { WireType } from "@bufbuild/protobuf/wire";

const emptyBytes = new Uint8Array(0);

/** The input and the read position of one decode call. */
export class ReadState {
  buf: Uint8Array = emptyBytes;
  pos = 0;
  len = 0;
  /** The two 32-bit words of the last readVarint64 (signed, as protobuf-es keeps them). */
  lo = 0;
  hi = 0;

  /** Reads `bytes` from `start` to `end`. */
  begin(bytes: Uint8Array, start: number, end: number): void {
    this.buf = bytes;
    this.pos = start;
    this.len = end;
  }

  /** Drops the input, so an idle state does not keep a large buffer alive. */
  end(): void {
    this.buf = emptyBytes;
    this.pos = 0;
    this.len = 0;
  }
}

/** fromBinary's default recursion limit: a message nested deeper throws, and so does
 *  an unknown group nested deeper, counted from the message that holds it. */
export const recursionLimit = 100;

export function prematureEof(): never {
  throw new RangeError("premature EOF");
}

function invalidVarint(): never {
  throw new Error("invalid varint");
}

/**
 * An unsigned 32-bit varint. Like protobuf-es, it reads up to 10 bytes, keeps the low
 * 32 bits and throws only if the tenth byte still has its continuation bit set, or if
 * the varint runs past the end of the input.
 */
export function readUint32(st: ReadState): number {
  const buf = st.buf;
  let pos = st.pos;
  if (pos < st.len) {
    const first = buf[pos]!;
    if (first < 0x80) {
      st.pos = pos + 1;
      return first;
    }
  }
  let value = 0;
  for (let i = 0; i < 10; i++) {
    if (pos >= st.len) prematureEof();
    const b = buf[pos++]!;
    if (i < 4) value |= (b & 0x7f) << (7 * i);
    else if (i === 4) value |= (b & 0x0f) << 28;
    if (b < 0x80) {
      st.pos = pos;
      return value >>> 0;
    }
  }
  return invalidVarint();
}

/** A signed 32-bit varint: int32 and enums. Negative values take 10 bytes on the
 *  wire; their low 32 bits are the value. */
export function readInt32(st: ReadState): number {
  return readUint32(st) | 0;
}

/**
 * A 64-bit varint into st.lo and st.hi, bit for bit as protobuf-es's varint64read:
 * at most 10 bytes, the excess bits of the last one ignored.
 */
export function readVarint64(st: ReadState): void {
  const buf = st.buf;
  const len = st.len;
  let pos = st.pos;
  let lo = 0;
  let hi = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= len) prematureEof();
    const b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) return setWords(st, pos, lo, 0);
  }
  if (pos >= len) prematureEof();
  const middle = buf[pos++]!;
  lo |= (middle & 0x0f) << 28;
  hi = (middle & 0x70) >> 4;
  if (middle < 0x80) return setWords(st, pos, lo, hi);
  for (let shift = 3; shift <= 31; shift += 7) {
    if (pos >= len) prematureEof();
    const b = buf[pos++]!;
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) return setWords(st, pos, lo, hi);
  }
  return invalidVarint();
}

function setWords(st: ReadState, pos: number, lo: number, hi: number): void {
  st.pos = pos;
  st.lo = lo;
  st.hi = hi;
}

/**
 * A tag, checked as protobuf-es checks it: at most 5 bytes that fit 32 bits, a field
 * number above 0 and a wire type up to 5. Returns the tag (fieldNo << 3 | wireType).
 */
export function readTag(st: ReadState): number {
  const start = st.pos;
  const tag = readUint32(st);
  const bytesRead = st.pos - start;
  if (bytesRead > 5 || (bytesRead === 5 && st.buf[st.pos - 1]! > 0x0f)) {
    throw new Error("illegal tag: varint overflows uint32");
  }
  return checkTag(tag);
}

export function checkTag(tag: number): number {
  if (tag >>> 3 === 0 || (tag & 7) > 5) {
    throw new Error(`illegal tag: field no ${tag >>> 3} wire type ${tag & 7}`);
  }
  return tag;
}

/** The little-endian 32-bit word at st.pos, as an unsigned number. */
export function readFixed32(st: ReadState): number {
  const pos = st.pos;
  if (pos + 4 > st.len) prematureEof();
  const buf = st.buf;
  st.pos = pos + 4;
  return (buf[pos]! | (buf[pos + 1]! << 8) | (buf[pos + 2]! << 16) | (buf[pos + 3]! << 24)) >>> 0;
}

const scratch = new DataView(new ArrayBuffer(8));

export function readFloat(st: ReadState): number {
  scratch.setUint32(0, readFixed32(st), true);
  return scratch.getFloat32(0, true);
}

export function readDouble(st: ReadState): number {
  loadFixed64(st);
  return scratch.getFloat64(0, true);
}

/** Moves the next 8 bytes into the scratch view; checks bounds before moving. */
function loadFixed64(st: ReadState): void {
  if (st.pos + 8 > st.len) prematureEof();
  scratch.setUint32(0, readFixed32(st), true);
  scratch.setUint32(4, readFixed32(st), true);
}

export function readFixed64(st: ReadState, signed: boolean): bigint {
  loadFixed64(st);
  return signed ? scratch.getBigInt64(0, true) : scratch.getBigUint64(0, true);
}

/** The words of the last readVarint64 as a bigint, signed or unsigned. */
export function wordsToBigInt(st: ReadState, signed: boolean): bigint {
  // Most values are small and positive; BigInt of an int32 is cheaper than the
  // round trip through the DataView.
  if (st.hi === 0 && st.lo >= 0) return BigInt(st.lo);
  scratch.setInt32(0, st.lo, true);
  scratch.setInt32(4, st.hi, true);
  return signed ? scratch.getBigInt64(0, true) : scratch.getBigUint64(0, true);
}

/** Zigzag-decodes the words of the last readVarint64 in place (sint64). */
export function unzigzagWords(st: ReadState): void {
  const lo = st.lo;
  const hi = st.hi;
  const sign = -(lo & 1);
  st.lo = ((lo >>> 1) | ((hi & 1) << 31)) ^ sign;
  st.hi = (hi >>> 1) ^ sign;
}

/** A bool is any varint that is not zero; most are one byte. */
export function readBool(st: ReadState): boolean {
  const pos = st.pos;
  if (pos < st.len) {
    const b = st.buf[pos]!;
    if (b < 0x80) {
      st.pos = pos + 1;
      return b !== 0;
    }
  }
  readVarint64(st);
  return st.lo !== 0 || st.hi !== 0;
}

/** Reads a length and returns where the data after it ends; throws if that is past
 *  the end of the input (where fromBinary, for a message, throws only when it gets
 *  there: the same inputs throw). */
export function readLengthEnd(st: ReadState): number {
  const len = readUint32(st);
  const end = st.pos + len;
  if (end > st.len) prematureEof();
  return end;
}

/** A bytes value: a view of the input, not a copy, as fromBinary returns it. */
export function readBytes(st: ReadState): Uint8Array {
  const end = readLengthEnd(st);
  const start = st.pos;
  st.pos = end;
  return st.buf.subarray(start, end);
}

/**
 * Skips one field whose tag was read and returns its bytes without the tag (a view),
 * as BinaryReader.skip does: a varint of any length, a group up to its end tag, which
 * must have the same field number; `depthLeft` nested groups at most.
 */
export function skipField(st: ReadState, wireType: number, fieldNo: number, depthLeft: number): Uint8Array {
  const start = st.pos;
  switch (wireType) {
    case WireType.Varint: {
      const buf = st.buf;
      let pos = st.pos;
      // Past the end reads as 0, ending the varint; the bounds check below throws.
      while (pos < st.len && buf[pos]! >= 0x80) pos++;
      st.pos = pos + 1;
      break;
    }
    case WireType.Bit64:
      st.pos += 8;
      break;
    case WireType.Bit32:
      st.pos += 4;
      break;
    case WireType.LengthDelimited: {
      const len = readUint32(st);
      st.pos += len;
      break;
    }
    case WireType.StartGroup:
      if (depthLeft <= 0) throw new Error("maximum recursion depth reached");
      for (;;) {
        const tag = readTag(st);
        if ((tag & 7) === WireType.EndGroup) {
          if (tag >>> 3 !== fieldNo) throw new Error("invalid end group tag");
          break;
        }
        skipField(st, tag & 7, tag >>> 3, depthLeft - 1);
      }
      break;
    default:
      throw new Error(`cant skip wire type ${wireType}`);
  }
  if (st.pos > st.len) prematureEof();
  return st.buf.subarray(start, st.pos);
}
