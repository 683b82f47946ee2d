/**
 * google.protobuf.Struct held as JSON: protobuf-es v2 stores a Struct field (outside
 * google.protobuf.Value) as a JsonObject, and toBinary converts it to Struct, Value and
 * ListValue messages before writing. This writes the same bytes straight from the JSON.
 * Pure: no node: imports. Field numbers come from the descriptors, not from constants.
 */
import { type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { type EncodeState } from "./encode-state.js";
import { scalarSize, writeScalar } from "./scalar.js";
import { structShape } from "./struct-shape.js";
import { makeTag, varint32Size, writeDouble, writeVarint32 } from "./wire-writes.js";

export interface StructLayout {
  /** Struct.fields, a map<string, Value>: entries are tagged with this. */
  readonly entryTag: number;
  /** Value's oneof `kind`, one tag per JSON type. */
  readonly nullTag: number;
  readonly numberTag: number;
  readonly stringTag: number;
  readonly boolTag: number;
  readonly structTag: number;
  readonly listTag: number;
  /** ListValue.values. */
  readonly listItemTag: number;
}

const mapKeyTag = makeTag(1, WireType.LengthDelimited);
const mapValueTag = makeTag(2, WireType.LengthDelimited);

/** Field numbers of a Struct type and the Value and ListValue types it uses. Throws
 *  if the descriptor is not shaped like struct.proto; the schema then falls back to
 *  toBinary. */
export function structLayout(structDesc: DescMessage): StructLayout {
  const { fields, kinds, values } = structShape(structDesc);
  return {
    entryTag: makeTag(fields.number, WireType.LengthDelimited),
    nullTag: makeTag(kinds.null_value.number, WireType.Varint),
    numberTag: makeTag(kinds.number_value.number, WireType.Bit64),
    stringTag: makeTag(kinds.string_value.number, WireType.LengthDelimited),
    boolTag: makeTag(kinds.bool_value.number, WireType.Varint),
    structTag: makeTag(kinds.struct_value.number, WireType.LengthDelimited),
    listTag: makeTag(kinds.list_value.number, WireType.LengthDelimited),
    listItemTag: makeTag(values.number, WireType.LengthDelimited),
  };
}

/** Like protobuf-es, anything but a plain object (arrays included) is an empty Struct. */
function isJsonObject(json: unknown): json is { readonly [key: string]: unknown } {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}

/** Bytes of the Struct that protobuf-es would convert `json` to, without a length
 *  prefix; stores lengths for writeStruct in the order it reads them. */
export function sizeStruct(layout: StructLayout, json: unknown, st: EncodeState): number {
  if (!isJsonObject(json)) return 0;
  let size = 0;
  for (const key of Object.keys(json)) {
    const entrySlot = st.reserveLength();
    const keySize = scalarSize(ScalarType.STRING, key, st);
    const valueSlot = st.reserveLength();
    const valueSize = sizeValue(layout, json[key], st);
    st.lengths[valueSlot] = valueSize;
    const entry =
      varint32Size(mapKeyTag) + keySize + varint32Size(mapValueTag) + varint32Size(valueSize) + valueSize;
    st.lengths[entrySlot] = entry;
    size += varint32Size(layout.entryTag) + varint32Size(entry) + entry;
  }
  return size;
}

export function writeStruct(layout: StructLayout, json: unknown, st: EncodeState): void {
  if (!isJsonObject(json)) return;
  for (const key of Object.keys(json)) {
    writeVarint32(st, layout.entryTag);
    writeVarint32(st, st.nextLength());
    writeVarint32(st, mapKeyTag);
    writeScalar(ScalarType.STRING, key, st);
    writeVarint32(st, mapValueTag);
    writeVarint32(st, st.nextLength());
    writeValue(layout, json[key], st);
  }
}

/** A JSON value as google.protobuf.Value; values that are not JSON (undefined, bigint,
 *  functions) become an empty Value, as in protobuf-es. */
function sizeValue(layout: StructLayout, json: unknown, st: EncodeState): number {
  switch (typeof json) {
    case "number":
      return varint32Size(layout.numberTag) + 8;
    case "string":
      return varint32Size(layout.stringTag) + scalarSize(ScalarType.STRING, json, st);
    case "boolean":
      return varint32Size(layout.boolTag) + 1;
    case "object": {
      if (json === null) return varint32Size(layout.nullTag) + 1;
      const slot = st.reserveLength();
      const nested = Array.isArray(json) ? sizeList(layout, json, st) : sizeStruct(layout, json, st);
      st.lengths[slot] = nested;
      const tag = Array.isArray(json) ? layout.listTag : layout.structTag;
      return varint32Size(tag) + varint32Size(nested) + nested;
    }
    default:
      return 0;
  }
}

function writeValue(layout: StructLayout, json: unknown, st: EncodeState): void {
  switch (typeof json) {
    case "number":
      writeVarint32(st, layout.numberTag);
      writeDouble(st, json);
      return;
    case "string":
      writeVarint32(st, layout.stringTag);
      writeScalar(ScalarType.STRING, json, st);
      return;
    case "boolean":
      writeVarint32(st, layout.boolTag);
      st.buf[st.pos++] = json ? 1 : 0;
      return;
    case "object":
      if (json === null) {
        writeVarint32(st, layout.nullTag);
        st.buf[st.pos++] = 0; // NullValue.NULL_VALUE
        return;
      }
      writeVarint32(st, Array.isArray(json) ? layout.listTag : layout.structTag);
      writeVarint32(st, st.nextLength());
      if (Array.isArray(json)) writeList(layout, json, st);
      else writeStruct(layout, json, st);
      return;
    default:
      return;
  }
}

function sizeList(layout: StructLayout, items: readonly unknown[], st: EncodeState): number {
  let size = 0;
  for (let i = 0; i < items.length; i++) {
    const slot = st.reserveLength();
    const n = sizeValue(layout, items[i], st);
    st.lengths[slot] = n;
    size += varint32Size(layout.listItemTag) + varint32Size(n) + n;
  }
  return size;
}

function writeList(layout: StructLayout, items: readonly unknown[], st: EncodeState): void {
  for (let i = 0; i < items.length; i++) {
    writeVarint32(st, layout.listItemTag);
    writeVarint32(st, st.nextLength());
    writeValue(layout, items[i], st);
  }
}
