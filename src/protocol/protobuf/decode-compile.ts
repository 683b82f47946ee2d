/**
 * Compiles a message descriptor (and every message type it reaches) into decode
 * plans: per field number how its value is read and where it is stored, decided
 * once. Pure: no node: imports. The rules mirror protobuf-es v2's fromBinary and its
 * localMessageMapper; what they do not cover throws here, and the schema falls back.
 */
import { create, type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { scalarZeroValue } from "@bufbuild/protobuf/reflect";
import { FeatureSet_FieldPresence, isWrapperDesc } from "@bufbuild/protobuf/wkt";
import { createMessageFactory } from "./decode-factory.js";
import { FieldDecodePlan, MessageDecodePlan, type StructPlans } from "./decode-plan.js";
import { structShape } from "./struct-shape.js";

/** Plans by descriptor; the second set uses cloning factories (for tests). */
const generatedPlans = new WeakMap<DescMessage, MessageDecodePlan>();
const cloningPlans = new WeakMap<DescMessage, MessageDecodePlan>();

type PlanLookup = (desc: DescMessage) => MessageDecodePlan;

/**
 * The decode plan for `desc`, compiled on first use. Throws if some type it reaches
 * has a feature the fast decoder does not reproduce; nothing half-built is cached
 * then. `codegen: false` builds messages without generated code (see decode-factory.ts).
 */
export function getMessageDecodePlan(desc: DescMessage, options: { codegen?: boolean } = {}): MessageDecodePlan {
  const codegen = options.codegen ?? true;
  const compiled = codegen ? generatedPlans : cloningPlans;
  const cached = compiled.get(desc);
  if (cached !== undefined) return cached;
  const started: DescMessage[] = [];
  const planFor: PlanLookup = (d) => {
    const existing = compiled.get(d);
    if (existing !== undefined) return existing;
    // Registered before its fields compile, so a recursive type finds itself.
    const plan = new MessageDecodePlan(d.typeName, createMessageFactory(d, { codegen }));
    compiled.set(d, plan);
    started.push(d);
    for (const field of d.fields) plan.addField(compileField(field, planFor));
    return plan;
  };
  try {
    return planFor(desc);
  } catch (err) {
    for (const d of started) compiled.delete(d);
    throw err;
  }
}

function compileField(field: DescField, planFor: PlanLookup): FieldDecodePlan {
  const common = { fieldNo: field.number, localName: field.localName, oneofName: field.oneof?.localName };
  switch (field.fieldKind) {
    case "scalar":
      return new FieldDecodePlan({
        ...common,
        kind: field.oneof === undefined ? "scalar" : "oneofScalar",
        scalar: field.scalar,
        longAsString: field.longAsString,
        validateUtf8: field.utf8Validation,
      });
    case "enum":
      // Open enums hold any int32; closed ones only the numbers they declare.
      if (field.enum.open) {
        return new FieldDecodePlan({ ...common, kind: field.oneof === undefined ? "scalar" : "oneofScalar" });
      }
      return new FieldDecodePlan({
        ...common,
        kind: "closedEnum",
        enumNumbers: new Set(field.enum.values.map((v) => v.number)),
      });
    case "message":
      return messageField(field, planFor);
    case "list":
      return listField(field, planFor);
    case "map":
      return mapField(field, planFor);
    default:
      return field satisfies never;
  }
}

/**
 * A singular message field as protobuf-es holds it: google.protobuf.Struct (outside
 * google.protobuf.Value) as JSON, a wrapper outside a oneof as its bare scalar,
 * anything else as a message object.
 */
function messageField(field: DescField & { readonly fieldKind: "message" }, planFor: PlanLookup): FieldDecodePlan {
  const common = { fieldNo: field.number, localName: field.localName, oneofName: field.oneof?.localName };
  const desc = field.message;
  if (heldAsJson(field)) {
    if (field.delimitedEncoding) throw new Error(`${field.toString()}: delimited Struct held as JSON`);
    return new FieldDecodePlan({
      ...common,
      kind: field.oneof === undefined ? "struct" : "oneofStruct",
      message: planFor(desc),
      struct: structPlans(desc, planFor),
    });
  }
  if (field.oneof === undefined && isWrapperDesc(desc)) {
    const inner = desc.fields[0];
    if (field.delimitedEncoding || inner?.fieldKind !== "scalar" || inner.presence !== FeatureSet_FieldPresence.IMPLICIT) {
      throw new Error(`${field.toString()}: unusual wrapper`);
    }
    // The zero value create() gives the wrapper message (one shared empty array for
    // BytesValue), which a wrapper without field 1 decodes to.
    const wrapper: { readonly [property: string]: unknown } = create(desc);
    const zero = wrapper[inner.localName];
    return new FieldDecodePlan({
      ...common,
      kind: "wrapper",
      scalar: inner.scalar,
      longAsString: inner.longAsString,
      validateUtf8: inner.utf8Validation,
      message: planFor(desc),
      zero,
    });
  }
  return new FieldDecodePlan({
    ...common,
    kind: field.oneof === undefined ? "message" : "oneofMessage",
    message: planFor(desc),
    delimited: field.delimitedEncoding,
  });
}

function listField(field: DescField & { readonly fieldKind: "list" }, planFor: PlanLookup): FieldDecodePlan {
  const common = { fieldNo: field.number, localName: field.localName };
  switch (field.listKind) {
    case "message":
      if (heldAsJson(field)) {
        if (field.delimitedEncoding) throw new Error(`${field.toString()}: delimited Struct held as JSON`);
        return new FieldDecodePlan({
          ...common,
          kind: "structList",
          message: planFor(field.message),
          struct: structPlans(field.message, planFor),
        });
      }
      return new FieldDecodePlan({
        ...common,
        kind: "messageList",
        message: planFor(field.message),
        delimited: field.delimitedEncoding,
      });
    case "enum":
      return new FieldDecodePlan({ ...common, kind: "scalarList", packable: true });
    case "scalar":
      return new FieldDecodePlan({
        ...common,
        kind: "scalarList",
        scalar: field.scalar,
        longAsString: field.longAsString,
        validateUtf8: field.utf8Validation,
        packable: field.scalar !== ScalarType.STRING && field.scalar !== ScalarType.BYTES,
      });
    default:
      return field satisfies never;
  }
}

/** Map keys and values ignore jstype, as in fromBinary; enum values are open. */
function mapField(field: DescField & { readonly fieldKind: "map" }, planFor: PlanLookup): FieldDecodePlan {
  const common = {
    kind: "map" as const,
    fieldNo: field.number,
    localName: field.localName,
    mapKey: field.mapKey,
    keyZero: String(scalarZeroValue(field.mapKey, false)),
    validateUtf8: field.utf8Validation,
  };
  switch (field.mapKind) {
    case "scalar":
      return new FieldDecodePlan({ ...common, mapValue: "scalar", scalar: field.scalar, zero: scalarZeroValue(field.scalar, false) });
    case "enum":
      return new FieldDecodePlan({ ...common, mapValue: "scalar", zero: field.enum.values[0]?.number ?? 0 });
    case "message":
      if (heldAsJson(field)) {
        return new FieldDecodePlan({
          ...common,
          mapValue: "struct",
          message: planFor(field.message),
          struct: structPlans(field.message, planFor),
        });
      }
      return new FieldDecodePlan({ ...common, mapValue: "message", message: planFor(field.message) });
    default:
      return field satisfies never;
  }
}

/** protobuf-es holds google.protobuf.Struct as JSON, except inside google.protobuf.Value. */
function heldAsJson(field: DescField & { readonly message: DescMessage }): boolean {
  return field.message.typeName === "google.protobuf.Struct" && field.parent.typeName !== "google.protobuf.Value";
}

/**
 * Plans of Struct, Value and ListValue for the JSON conversions, which use
 * protobuf-es's property names. Throws if the descriptors are not shaped like
 * struct.proto; the schema then falls back to fromBinary.
 */
function structPlans(structDesc: DescMessage, planFor: PlanLookup): StructPlans {
  const { valueDesc, listDesc } = structShape(structDesc);
  return { struct: planFor(structDesc), value: planFor(valueDesc), list: planFor(listDesc) };
}
