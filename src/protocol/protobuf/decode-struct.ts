/**
 * google.protobuf.Struct as protobuf-es holds it in a field (outside
 * google.protobuf.Value): JSON. fromBinary reads such a field as a Struct message,
 * merging into the JSON it already holds turned back into a message, and stores the
 * message as JSON; these are the two conversions. Pure: no node: imports.
 */
import { asList, asMessage, asOneof, type DecodedMessage, type StructPlans } from "./decode-plan.js";

// Property names as protobuf-es spells them in its own conversion; decode-compile.ts
// checks that the Struct, Value and ListValue descriptors have them.

/** A Struct message as JSON: an object with a JSON value per entry. */
export function structToJson(struct: DecodedMessage): { [key: string]: unknown } {
  const json: { [key: string]: unknown } = {};
  const fields = asMessage(struct.fields);
  for (const key of Object.keys(fields)) setOwn(json, key, valueToJson(asMessage(fields[key])));
  return json;
}

/** A Value message as JSON; a Value with no kind set is null, like NULL_VALUE. */
function valueToJson(value: DecodedMessage): unknown {
  const kind = asOneof(value.kind);
  switch (kind.case) {
    case "structValue":
      return structToJson(asMessage(kind.value));
    case "listValue":
      return asList(asMessage(kind.value).values).map((item) => valueToJson(asMessage(item)));
    case "nullValue":
    case undefined:
      return null;
    default:
      return kind.value;
  }
}

/** JSON as a Struct message; anything but a plain object is an empty Struct. */
export function structFromJson(plans: StructPlans, json: unknown): DecodedMessage {
  const struct = plans.struct.factory();
  if (isPlainObject(json)) {
    const fields = asMessage(struct.fields);
    for (const key of Object.keys(json)) setOwn(fields, key, valueFromJson(plans, json[key]));
  }
  return struct;
}

/** A JSON value as a Value message; values that are not JSON set no kind. */
function valueFromJson(plans: StructPlans, json: unknown): DecodedMessage {
  const value = plans.value.factory();
  switch (typeof json) {
    case "number":
      value.kind = { case: "numberValue", value: json };
      break;
    case "string":
      value.kind = { case: "stringValue", value: json };
      break;
    case "boolean":
      value.kind = { case: "boolValue", value: json };
      break;
    case "object":
      if (json === null) {
        value.kind = { case: "nullValue", value: 0 }; // NullValue.NULL_VALUE
      } else if (Array.isArray(json)) {
        const list = plans.list.factory();
        const values = asList(list.values);
        for (let i = 0; i < json.length; i++) values.push(valueFromJson(plans, json[i]));
        value.kind = { case: "listValue", value: list };
      } else {
        value.kind = { case: "structValue", value: structFromJson(plans, json) };
      }
      break;
    default:
      break;
  }
  return value;
}

function isPlainObject(value: unknown): value is { readonly [key: string]: unknown } {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Sets a property; "__proto__" becomes an own property, not the prototype. */
export function setOwn(target: { [key: string]: unknown }, key: string, value: unknown): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}
