/**
 * The plan (size pass): walks a message once, decides presence exactly as toBinary
 * does, records the write steps in output order and returns the exact size (if
 * strings are assumed ASCII, the write pass checks that). Pure: no node: imports.
 * Everything schema-specific was decided at compile time (compile.ts); here only
 * values are looked at.
 */
import { ScalarType } from "@bufbuild/protobuf";
import { type EncodeState, fallback } from "./encode-state.js";
import { sizeStruct } from "./json-struct-codec.js";
import { asList, asLocalMessage, type LocalMessage } from "./local-message.js";
import { isImplicitZero, mapKeyFromString, scalarSize } from "./scalar.js";
import { unknownFieldsSize } from "./unknown-fields.js";
import { varint32Size } from "./wire-writes.js";
import { WriteStep } from "./write-step.js";

export interface MessageCodec {
  readonly typeName: string;
  /** toBinary rejects a message of another type, but only if this type has fields. */
  readonly checkTypeName: boolean;
  /** By field number, toBinary's order. Filled after the codec is registered, so a
   *  recursive type finds itself. */
  readonly fields: FieldPlan[];
}

/**
 * How toBinary decides whether a field is written:
 * - "implicit": proto3 without `optional`, unless the value is zero;
 * - "explicit": an own property that is not undefined (proto2 defaults live on the
 *   prototype and are not written);
 * - "required": like explicit, and toBinary throws when it is missing;
 * - "oneof": the oneof's `case` names the field;
 * - "always": lists and maps, written when they have entries.
 */
export type Presence = "implicit" | "explicit" | "required" | "oneof" | "always";

/** How one value is written, tag included. */
export type ValueKind =
  | "scalar" // tag + scalar (enums are int32)
  | "message" // tag + length + fields
  | "group" // start tag + fields + end tag (proto2 groups, editions DELIMITED)
  | "wrapper" // a google.protobuf.*Value held as its bare scalar
  | "jsonStruct"; // a google.protobuf.Struct held as JSON

/** A value's encoding: a singular field's, a list item's, a map entry's value. */
export class ValuePlan {
  readonly kind: ValueKind;
  /** Recorded for the value: its scalar step, its length prefix, its group's start. */
  readonly step: WriteStep;
  /** Bytes of the tags the steps write: both tags for a group, the outer tag for a
   *  wrapper (whose field-1 tag is `innerTagSize`). */
  readonly tagSize: number;
  /** "scalar": the value's type; "wrapper": the type of the wrapper's field 1. */
  readonly scalar: ScalarType;
  /** "message", "group": the fields. */
  readonly message: MessageCodec | undefined;
  readonly groupEnd: WriteStep | undefined;
  readonly innerTagSize: number;

  // One constructor filling every property, so all plans share one shape.
  constructor(init: {
    kind: ValueKind;
    step: WriteStep;
    tagSize: number;
    scalar?: ScalarType;
    message?: MessageCodec;
    groupEnd?: WriteStep;
    innerTagSize?: number;
  }) {
    this.kind = init.kind;
    this.step = init.step;
    this.tagSize = init.tagSize;
    this.scalar = init.scalar ?? ScalarType.INT32;
    this.message = init.message;
    this.groupEnd = init.groupEnd;
    this.innerTagSize = init.innerTagSize ?? 0;
  }
}

export type FieldShape = "singular" | "messageList" | "scalarList" | "map";

/** One field, compiled: where its value is, when it is written, and how. */
export class FieldPlan {
  readonly shape: FieldShape;
  readonly presence: Presence;
  readonly localName: string;
  /** The singular value, each list item, each map value. */
  readonly value: ValuePlan;
  /** "oneof": the oneof's localName. */
  readonly oneofName: string;
  /** "implicit" enums: the zero to compare with (the first declared value). */
  readonly enumZero: number | undefined;
  /** "scalarList": a "packed" or "unpacked" step; "map": the "mapEntry" step. */
  readonly listStep: WriteStep | undefined;
  /** Tag bytes of the packed run, of each unpacked item, or of each map entry. */
  readonly listTagSize: number;
  /** "map": the key's type and tag bytes. */
  readonly keyType: ScalarType;
  readonly keyTagSize: number;

  constructor(init: {
    shape: FieldShape;
    presence: Presence;
    localName: string;
    value: ValuePlan;
    oneofName?: string;
    enumZero?: number;
    listStep?: WriteStep;
    listTagSize?: number;
    keyType?: ScalarType;
    keyTagSize?: number;
  }) {
    this.shape = init.shape;
    this.presence = init.presence;
    this.localName = init.localName;
    this.value = init.value;
    this.oneofName = init.oneofName ?? "";
    this.enumZero = init.enumZero;
    this.listStep = init.listStep;
    this.listTagSize = init.listTagSize ?? 0;
    this.keyType = init.keyType ?? ScalarType.STRING;
    this.keyTagSize = init.keyTagSize ?? 0;
  }
}

const unknownFieldsStep = new WriteStep("unknownFields", 0, ScalarType.BYTES);

/** Plans the message's fields and unknown fields; returns their size in bytes (the
 *  message's length, without a length prefix). */
export function planMessage(codec: MessageCodec, message: LocalMessage, st: EncodeState): number {
  if (codec.checkTypeName && message.$typeName !== codec.typeName) fallback();
  const fields = codec.fields;
  let size = 0;
  for (let i = 0; i < fields.length; i++) size += planField(fields[i] ?? fallback(), message, st);
  const unknown = message.$unknown;
  if (unknown !== undefined) {
    const list = asList(unknown);
    st.record(unknownFieldsStep, list);
    size += unknownFieldsSize(list);
  }
  return size;
}

function planField(f: FieldPlan, message: LocalMessage, st: EncodeState): number {
  let value: unknown;
  switch (f.presence) {
    case "oneof": {
      const oneof = asLocalMessage(message[f.oneofName]);
      if (oneof.case !== f.localName) return 0;
      value = oneof.value;
      break;
    }
    case "implicit":
      value = message[f.localName];
      if (f.enumZero !== undefined ? value === f.enumZero : isImplicitZero(f.value.scalar, value)) return 0;
      break;
    case "explicit":
    case "required":
      value = message[f.localName];
      if (value === undefined || !Object.prototype.hasOwnProperty.call(message, f.localName)) {
        return f.presence === "required" ? fallback() : 0; // toBinary throws for required
      }
      break;
    case "always":
      value = message[f.localName];
      break;
    default:
      return f.presence satisfies never;
  }
  switch (f.shape) {
    case "singular": {
      const v = f.value;
      if (v.kind !== "scalar") return planValue(v, value, st);
      // Most fields are scalars: planned here, one call fewer per field.
      st.record(v.step, value);
      return v.tagSize + scalarSize(v.scalar, value, st);
    }
    case "messageList": {
      const items = asList(value);
      let size = 0;
      for (let i = 0; i < items.length; i++) size += planValue(f.value, items[i], st);
      return size;
    }
    case "scalarList":
      return planScalarList(f, asList(value), st);
    case "map":
      return planMap(f, asLocalMessage(value), st);
    default:
      return f.shape satisfies never;
  }
}

function planValue(v: ValuePlan, value: unknown, st: EncodeState): number {
  switch (v.kind) {
    case "scalar":
      st.record(v.step, value);
      return v.tagSize + scalarSize(v.scalar, value, st);
    case "message": {
      st.record(v.step, undefined);
      const slot = st.reserveLength();
      // toBinary would encode undefined as an empty message, or reject one with
      // required fields; rare enough to leave to it.
      const n = planMessage(v.message ?? fallback(), asLocalMessage(value ?? fallback()), st);
      st.lengths[slot] = n;
      return v.tagSize + varint32Size(n) + n;
    }
    case "group": {
      st.record(v.step, undefined);
      const n = planMessage(v.message ?? fallback(), asLocalMessage(value ?? fallback()), st);
      st.record(v.groupEnd ?? fallback(), undefined);
      return v.tagSize + n;
    }
    case "wrapper": {
      // The wrapper message holds the scalar in field 1, left out when zero (proto3).
      st.record(v.step, value);
      const slot = st.reserveLength();
      const n = isImplicitZero(v.scalar, value) ? 0 : v.innerTagSize + scalarSize(v.scalar, value, st);
      st.lengths[slot] = n;
      return v.tagSize + varint32Size(n) + n;
    }
    case "jsonStruct": {
      st.record(v.step, value);
      const slot = st.reserveLength();
      const n = sizeStruct(v.step.struct ?? fallback(), value, st);
      st.lengths[slot] = n;
      return v.tagSize + varint32Size(n) + n;
    }
    default:
      return v.kind satisfies never;
  }
}

/** Packed: one tag and length for the run; unpacked: a tag per item. Nothing at all
 *  for an empty list. One step writes the whole list. */
function planScalarList(f: FieldPlan, items: readonly unknown[], st: EncodeState): number {
  if (items.length === 0) return 0;
  const step = f.listStep ?? fallback();
  const type = f.value.scalar;
  st.record(step, items);
  if (step.op === "unpacked") {
    let size = f.listTagSize * items.length;
    for (let i = 0; i < items.length; i++) size += scalarSize(type, items[i], st);
    return size;
  }
  const slot = st.reserveLength();
  let n = 0;
  for (let i = 0; i < items.length; i++) n += scalarSize(type, items[i], st);
  st.lengths[slot] = n;
  return f.listTagSize + varint32Size(n) + n;
}

/** One length-prefixed entry per key, in Object.keys order; key and value are always
 *  written, even when zero, as toBinary does. */
function planMap(f: FieldPlan, record: LocalMessage, st: EncodeState): number {
  const entryStep = f.listStep ?? fallback();
  const keys = Object.keys(record);
  let size = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] ?? fallback();
    const key = mapKeyFromString(f.keyType, k);
    st.record(entryStep, key);
    const slot = st.reserveLength();
    const n = f.keyTagSize + scalarSize(f.keyType, key, st) + planValue(f.value, record[k], st);
    st.lengths[slot] = n;
    size += f.listTagSize + varint32Size(n) + n;
  }
  return size;
}
