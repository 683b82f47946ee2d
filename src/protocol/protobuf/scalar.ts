/**
 * One scalar value without its tag, for each protobuf scalar type: its size, its bytes,
 * toBinary's implicit-presence test, and map keys back from object keys. Pure: no
 * node: imports. Each accepts only the JavaScript type protobuf-es v2 stores for the
 * type; anything else (even what toBinary would coerce) leaves the fast path.
 */
import { ScalarType } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { type EncodeState, fallback, notAscii } from "./encode-state.js";
import { splitInt64, splitUint64, words, zigzagWords } from "./int64.js";
import { utf8ByteLength, writeAscii, writeUtf8 } from "./utf8.js";
import {
  int32VarintSize,
  varint32Size,
  varint64Size,
  writeBytesRaw,
  writeDouble,
  writeFixed32,
  writeFixed64,
  writeFloat,
  writeInt32Varint,
  writeVarint32,
  writeVarint64,
} from "./wire-writes.js";

function asNumber(value: unknown): number {
  return typeof value === "number" ? value : fallback();
}

function asInt32(value: unknown): number {
  return typeof value === "number" && (value | 0) === value ? value : fallback();
}

function asUint32(value: unknown): number {
  return typeof value === "number" && value >>> 0 === value ? value : fallback();
}

/** toBinary rejects a finite double that overflows a float; NaN and ±Infinity pass. */
function asFloat32(value: unknown): number {
  const n = asNumber(value);
  if (Number.isFinite(n) && !Number.isFinite(Math.fround(n))) fallback();
  return n;
}

function asString(value: unknown): string {
  return typeof value === "string" ? value : fallback();
}

function asBytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : fallback();
}

function asBool(value: unknown): boolean {
  return typeof value === "boolean" ? value : fallback();
}

function zigzag32(n: number): number {
  return ((n << 1) ^ (n >> 31)) >>> 0;
}

/** The wire type of a scalar type; enums are int32. */
export function scalarWireType(type: ScalarType): WireType {
  switch (type) {
    case ScalarType.BYTES:
    case ScalarType.STRING:
      return WireType.LengthDelimited;
    case ScalarType.DOUBLE:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return WireType.Bit64;
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32:
    case ScalarType.FLOAT:
      return WireType.Bit32;
    default:
      return WireType.Varint;
  }
}

/** Bytes of the value without its tag. A string stores its UTF-8 length for writeScalar. */
export function scalarSize(type: ScalarType, value: unknown, st: EncodeState): number {
  switch (type) {
    case ScalarType.STRING: {
      const s = asString(value);
      // Assuming ASCII, the size is the length; the write pass checks the assumption.
      const n = st.assumeAscii ? s.length : utf8ByteLength(s);
      if (!st.assumeAscii) st.pushLength(n);
      return varint32Size(n) + n;
    }
    case ScalarType.BYTES: {
      const n = asBytes(value).length;
      return varint32Size(n) + n;
    }
    case ScalarType.INT32:
      return int32VarintSize(asInt32(value));
    case ScalarType.UINT32:
      return varint32Size(asUint32(value));
    case ScalarType.SINT32:
      return varint32Size(zigzag32(asInt32(value)));
    case ScalarType.INT64:
      splitInt64(value);
      return varint64Size(words.lo, words.hi);
    case ScalarType.UINT64:
      splitUint64(value);
      return varint64Size(words.lo, words.hi);
    case ScalarType.SINT64:
      splitInt64(value);
      zigzagWords();
      return varint64Size(words.lo, words.hi);
    case ScalarType.BOOL:
      asBool(value);
      return 1;
    case ScalarType.DOUBLE:
      asNumber(value);
      return 8;
    case ScalarType.FLOAT:
      asFloat32(value);
      return 4;
    case ScalarType.FIXED32:
      asUint32(value);
      return 4;
    case ScalarType.SFIXED32:
      asInt32(value);
      return 4;
    case ScalarType.FIXED64:
      splitUint64(value);
      return 8;
    case ScalarType.SFIXED64:
      splitInt64(value);
      return 8;
    default:
      return type satisfies never;
  }
}

/** Writes what scalarSize measured, reading back a string's stored length. */
export function writeScalar(type: ScalarType, value: unknown, st: EncodeState): void {
  switch (type) {
    case ScalarType.STRING: {
      const s = asString(value);
      if (st.assumeAscii) {
        writeVarint32(st, s.length);
        const end = writeAscii(st.buf, st.pos, s);
        st.pos = end >= 0 ? end : notAscii();
        return;
      }
      const n = st.nextLength();
      writeVarint32(st, n);
      st.pos = writeUtf8(st.buf, st.pos, s, n);
      return;
    }
    case ScalarType.BYTES: {
      const bytes = asBytes(value);
      writeVarint32(st, bytes.length);
      writeBytesRaw(st, bytes);
      return;
    }
    case ScalarType.INT32:
      return writeInt32Varint(st, asInt32(value));
    case ScalarType.UINT32:
      return writeVarint32(st, asUint32(value));
    case ScalarType.SINT32:
      return writeVarint32(st, zigzag32(asInt32(value)));
    case ScalarType.INT64:
      splitInt64(value);
      return writeVarint64(st, words.lo, words.hi);
    case ScalarType.UINT64:
      splitUint64(value);
      return writeVarint64(st, words.lo, words.hi);
    case ScalarType.SINT64:
      splitInt64(value);
      zigzagWords();
      return writeVarint64(st, words.lo, words.hi);
    case ScalarType.BOOL:
      st.buf[st.pos++] = asBool(value) ? 1 : 0;
      return;
    case ScalarType.DOUBLE:
      return writeDouble(st, asNumber(value));
    case ScalarType.FLOAT:
      return writeFloat(st, asNumber(value));
    case ScalarType.FIXED32:
      return writeFixed32(st, asUint32(value));
    case ScalarType.SFIXED32:
      return writeFixed32(st, asInt32(value));
    case ScalarType.FIXED64:
      splitUint64(value);
      return writeFixed64(st, words.lo, words.hi);
    case ScalarType.SFIXED64:
      splitInt64(value);
      return writeFixed64(st, words.lo, words.hi);
    default:
      return type satisfies never;
  }
}

/**
 * toBinary's test for a field with implicit presence (proto3 without `optional`): true
 * when the value is the zero value and the field is left out. The comparisons are
 * toBinary's: -0 is written for float and double but not for integers, and 64-bit
 * values compare loosely so that 0n and "0" are both zero.
 */
export function isImplicitZero(type: ScalarType, value: unknown): boolean {
  switch (type) {
    case ScalarType.STRING:
      return value === "";
    case ScalarType.BOOL:
      return value === false;
    case ScalarType.BYTES:
      return value instanceof Uint8Array && value.byteLength === 0;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return Object.is(value, 0);
    default:
      return value == 0; // loose on purpose, as in toBinary
  }
}

/**
 * A map key back from its object key (always a string locally), converted as toBinary
 * does. 64-bit keys stay strings: scalarSize parses them with BigInt as protoInt64
 * does. A key toBinary would pass on unconverted leaves the fast path.
 */
export function mapKeyFromString(type: ScalarType, key: string): unknown {
  switch (type) {
    case ScalarType.BOOL:
      return key === "true" ? true : key === "false" ? false : fallback();
    case ScalarType.INT32:
    case ScalarType.UINT32:
    case ScalarType.SINT32:
    case ScalarType.FIXED32:
    case ScalarType.SFIXED32: {
      const n = Number.parseInt(key);
      return Number.isFinite(n) ? n : fallback();
    }
    default:
      return key;
  }
}
