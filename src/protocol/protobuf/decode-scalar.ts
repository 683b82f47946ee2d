/**
 * One scalar value, read as fromBinary reads it into protobuf-es's representation:
 * numbers, bool, string, bytes as a view of the input, 64-bit integers as bigint or
 * (jstype = JS_STRING) a decimal string. Pure: no node: imports.
 */
import { ScalarType } from "@bufbuild/protobuf";
import {
  readBool,
  readBytes,
  readDouble,
  readFixed32,
  readFixed64,
  readFloat,
  readInt32,
  readLengthEnd,
  readUint32,
  readVarint64,
  type ReadState,
  unzigzagWords,
  wordsToBigInt,
} from "./decode-reader.js";
import { decodeUtf8 } from "./decode-utf8.js";

/** The value of `type` at st.pos. Enums are read as INT32. The wire type is not
 *  looked at: fromBinary reads a known field by its declared type, whatever the tag says. */
export function readScalar(st: ReadState, type: ScalarType, longAsString: boolean, validateUtf8: boolean): unknown {
  switch (type) {
    case ScalarType.STRING:
      return readString(st, validateUtf8);
    case ScalarType.INT32:
      return readInt32(st);
    case ScalarType.BOOL:
      return readBool(st);
    case ScalarType.BYTES:
      return readBytes(st);
    case ScalarType.DOUBLE:
      return readDouble(st);
    case ScalarType.FLOAT:
      return readFloat(st);
    case ScalarType.UINT32:
      return readUint32(st);
    case ScalarType.FIXED32:
      return readFixed32(st);
    case ScalarType.SFIXED32:
      return readFixed32(st) | 0;
    case ScalarType.SINT32: {
      const n = readUint32(st);
      return (n >>> 1) ^ -(n & 1);
    }
    case ScalarType.INT64:
      readVarint64(st);
      return long(wordsToBigInt(st, true), longAsString);
    case ScalarType.UINT64:
      readVarint64(st);
      return long(wordsToBigInt(st, false), longAsString);
    case ScalarType.SINT64:
      readVarint64(st);
      unzigzagWords(st);
      return long(wordsToBigInt(st, true), longAsString);
    case ScalarType.FIXED64:
      return long(readFixed64(st, false), longAsString);
    case ScalarType.SFIXED64:
      return long(readFixed64(st, true), longAsString);
    default:
      return type satisfies never;
  }
}

function long(value: bigint, asString: boolean): bigint | string {
  return asString ? String(value) : value;
}

export function readString(st: ReadState, validateUtf8: boolean): string {
  const end = readLengthEnd(st);
  const start = st.pos;
  st.pos = end;
  return decodeUtf8(st.buf, start, end, validateUtf8);
}
