/**
 * Compiles a message descriptor (and every message type it reaches) into plans: per
 * field its presence rule, tags, write steps and sizes of constants, decided once.
 * Pure: no node: imports. The rules mirror protobuf-es v2's toBinary and its
 * localMessageMapper; what they do not cover throws here, and the schema falls back.
 */
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { FeatureSet_FieldPresence, isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { structLayout } from "./json-struct-codec.js";
import { FieldPlan, type MessageCodec, type Presence, ValuePlan } from "./plan.js";
import { scalarWireType } from "./scalar.js";
import { makeTag, varint32Size } from "./wire-writes.js";
import { tagStep, WriteStep } from "./write-step.js";

const compiled = new WeakMap<DescMessage, MessageCodec>();

type CodecLookup = (desc: DescMessage) => MessageCodec;

/**
 * The codec for `desc`, compiled on first use. Throws if some type it reaches has a
 * feature the fast encoder does not reproduce; nothing half-built is cached then.
 */
export function getMessageCodec(desc: DescMessage): MessageCodec {
  const cached = compiled.get(desc);
  if (cached !== undefined) return cached;
  const started: DescMessage[] = [];
  const codecFor: CodecLookup = (d) => {
    const existing = compiled.get(d);
    if (existing !== undefined) return existing;
    // Registered before its fields compile, so a recursive type finds itself.
    const codec: MessageCodec = { typeName: d.typeName, checkTypeName: d.fields.length > 0, fields: [] };
    compiled.set(d, codec);
    started.push(d);
    // toBinary writes fields by number, oneof members included.
    const byNumber = d.fields.concat().sort((a, b) => a.number - b.number);
    for (const field of byNumber) codec.fields.push(compileField(field, codecFor));
    return codec;
  };
  try {
    return codecFor(desc);
  } catch (err) {
    for (const d of started) compiled.delete(d);
    throw err;
  }
}

function compileField(field: DescField, codecFor: CodecLookup): FieldPlan {
  switch (field.fieldKind) {
    case "scalar":
      return singularField(field, scalarValue(field.number, field.scalar));
    case "enum":
      return singularField(field, scalarValue(field.number, ScalarType.INT32), field.enum.values[0]?.number ?? 0);
    case "message":
      if (presenceOf(field) === "implicit") throw new Error(`${field.toString()}: implicit presence on a message`);
      return singularField(field, messageValue(field, field.number, field.delimitedEncoding, codecFor));
    case "list":
      return listField(field, codecFor);
    case "map":
      return mapField(field, codecFor);
    default:
      return field satisfies never;
  }
}

/** Messages item by item; scalars (enums as int32) in one step, packed or not as the
 *  descriptor says (proto3 and editions default to packed, proto2 to unpacked). */
function listField(field: DescField & { readonly fieldKind: "list" }, codecFor: CodecLookup): FieldPlan {
  const localName = field.localName;
  if (field.listKind === "message") {
    const value = messageValue(field, field.number, field.delimitedEncoding, codecFor);
    return new FieldPlan({ shape: "messageList", presence: "always", localName, value });
  }
  const type = field.listKind === "enum" ? ScalarType.INT32 : field.scalar;
  const listStep = field.packed
    ? new WriteStep("packed", makeTag(field.number, WireType.LengthDelimited), type)
    : new WriteStep("unpacked", makeTag(field.number, scalarWireType(type)), type);
  return new FieldPlan({
    shape: "scalarList",
    presence: "always",
    localName,
    value: scalarValue(field.number, type),
    listStep,
    listTagSize: varint32Size(listStep.tag),
  });
}

/** Entries are messages with the key in field 1 and the value in field 2; map values
 *  are never delimited. */
function mapField(field: DescField & { readonly fieldKind: "map" }, codecFor: CodecLookup): FieldPlan {
  const keyTag = makeTag(1, scalarWireType(field.mapKey));
  const listStep = new WriteStep("mapEntry", makeTag(field.number, WireType.LengthDelimited), field.mapKey, keyTag);
  let value: ValuePlan;
  switch (field.mapKind) {
    case "message":
      value = messageValue(field, 2, false, codecFor);
      break;
    case "enum":
      value = scalarValue(2, ScalarType.INT32);
      break;
    case "scalar":
      value = scalarValue(2, field.scalar);
      break;
    default:
      return field satisfies never;
  }
  return new FieldPlan({
    shape: "map",
    presence: "always",
    localName: field.localName,
    value,
    listStep,
    listTagSize: varint32Size(listStep.tag),
    keyType: field.mapKey,
    keyTagSize: varint32Size(keyTag),
  });
}

function presenceOf(field: DescField): Presence {
  if (field.oneof !== undefined) return "oneof";
  switch (field.presence) {
    case FeatureSet_FieldPresence.IMPLICIT:
      return "implicit";
    case FeatureSet_FieldPresence.LEGACY_REQUIRED:
      return "required";
    default:
      return "explicit";
  }
}

function singularField(field: DescField, value: ValuePlan, enumZero?: number): FieldPlan {
  const presence = presenceOf(field);
  return new FieldPlan({
    shape: "singular",
    presence,
    localName: field.localName,
    value,
    oneofName: field.oneof?.localName,
    enumZero: presence === "implicit" ? enumZero : undefined,
  });
}

function scalarValue(fieldNo: number, type: ScalarType): ValuePlan {
  const step = new WriteStep("scalar", makeTag(fieldNo, scalarWireType(type)), type);
  return new ValuePlan({ kind: "scalar", step, tagSize: varint32Size(step.tag), scalar: type });
}

/**
 * A message-typed value, as protobuf-es holds it locally: google.protobuf.Struct
 * (outside google.protobuf.Value) as JSON; a singular wrapper outside a oneof as its
 * bare scalar; anything else as a message object, length-prefixed or delimited.
 */
function messageValue(
  field: DescField & { readonly message: DescMessage },
  fieldNo: number,
  delimited: boolean,
  codecFor: CodecLookup,
): ValuePlan {
  const desc = field.message;
  const lengthPrefix = makeTag(fieldNo, WireType.LengthDelimited);
  if (desc.typeName === "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value") {
    if (delimited) throw new Error(`${field.toString()}: delimited Struct held as JSON`);
    const step = new WriteStep("jsonStruct", lengthPrefix, ScalarType.STRING, 0, structLayout(desc));
    return new ValuePlan({ kind: "jsonStruct", step, tagSize: varint32Size(lengthPrefix) });
  }
  if (field.fieldKind === "message" && field.oneof === undefined && isWrapperDesc(desc)) {
    const inner = desc.fields[0];
    if (delimited || presenceOf(inner) !== "implicit") throw new Error(`${field.toString()}: unusual wrapper`);
    const innerTag = makeTag(inner.number, scalarWireType(inner.scalar));
    const step = new WriteStep("wrapper", lengthPrefix, inner.scalar, innerTag);
    return new ValuePlan({
      kind: "wrapper",
      step,
      tagSize: varint32Size(lengthPrefix),
      scalar: inner.scalar,
      innerTagSize: varint32Size(innerTag),
    });
  }
  if (delimited) {
    const step = tagStep(fieldNo, WireType.StartGroup);
    const groupEnd = tagStep(fieldNo, WireType.EndGroup);
    const tagSize = varint32Size(step.tag) + varint32Size(groupEnd.tag);
    return new ValuePlan({ kind: "group", step, tagSize, message: codecFor(desc), groupEnd });
  }
  const step = new WriteStep("lengthPrefix", lengthPrefix, ScalarType.INT32);
  return new ValuePlan({ kind: "message", step, tagSize: varint32Size(lengthPrefix), message: codecFor(desc) });
}
