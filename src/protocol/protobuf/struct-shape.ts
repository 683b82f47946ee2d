/**
 * google.protobuf.Struct, Value and ListValue as the compiled encoder and decoder need
 * them to convert a Struct held as JSON: the fields they use, found by name in the
 * descriptors and checked to be shaped like struct.proto. Pure: no node: imports.
 */
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";

/** The members of Value's oneof `kind`, by proto name. */
const valueKinds = ["null_value", "number_value", "string_value", "bool_value", "struct_value", "list_value"] as const;

export type ValueKind = (typeof valueKinds)[number];

export interface StructShape {
  /** Struct.fields, a map<string, Value>. */
  readonly fields: DescField;
  readonly valueDesc: DescMessage;
  /** Value's oneof members. */
  readonly kinds: Readonly<Record<ValueKind, DescField>>;
  readonly listDesc: DescMessage;
  /** ListValue.values, a list of Value. */
  readonly values: DescField;
}

/**
 * The shape of `structDesc` and the types it uses. Throws if they are not shaped like
 * struct.proto (or their fields lack the localNames protobuf-es derives); a schema that
 * uses them then falls back to toBinary and fromBinary.
 */
export function structShape(structDesc: DescMessage): StructShape {
  const fields = findField(structDesc, "fields");
  if (fields.fieldKind !== "map" || fields.mapKind !== "message" || fields.mapKey !== ScalarType.STRING) {
    throw new Error(`${structDesc.typeName}.fields is not map<string, Value>`);
  }
  const valueDesc = fields.message;
  const kinds = {} as Record<ValueKind, DescField>;
  for (const name of valueKinds) {
    const field = findField(valueDesc, name);
    if (field.oneof?.localName !== "kind") throw new Error(`${valueDesc.typeName}.${name} is not in oneof kind`);
    kinds[name] = field;
  }
  const list = kinds.list_value;
  if (list.fieldKind !== "message") throw new Error(`${valueDesc.typeName}.list_value is not a message`);
  const values = findField(list.message, "values");
  if (values.fieldKind !== "list" || values.listKind !== "message" || values.message !== valueDesc) {
    throw new Error(`${list.message.typeName}.values is not a list of ${valueDesc.typeName}`);
  }
  return { fields, valueDesc, kinds, listDesc: list.message, values };
}

/** A field by its proto name, which must have the localName protobuf-es derives. */
function findField(desc: DescMessage, name: string): DescField {
  const field = desc.fields.find((f) => f.name === name);
  const expected = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (field === undefined || field.localName !== expected) throw new Error(`${desc.typeName} has no field ${name}`);
  return field;
}
