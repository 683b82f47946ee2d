/**
 * Decode plans: per message type, which field numbers it knows and how each is read
 * into the message object protobuf-es's fromBinary would build. Pure: no node:
 * imports. Built by decode-compile.ts, run by decode-message.ts.
 */
import { ScalarType, type UnknownField } from "@bufbuild/protobuf";
import type { MessageFactory } from "./decode-factory.js";

/** A message as the decoder fills it: protobuf-es's local representation. */
export type DecodedMessage = { [property: string]: unknown; $unknown?: UnknownField[] };

/** A oneof group's value: `{ case: undefined }` or the selected field and its value. */
export type OneofValue = { readonly case: string | undefined; readonly value?: unknown };

/**
 * How a field's value is read and stored. A oneof member replaces the group's
 * `{ case, value }`; message values met again are merged into, as fromBinary does.
 * - "scalar": scalars and open enums, last one wins;
 * - "closedEnum": a value the enum does not declare goes to $unknown instead;
 * - "message": a message, length-prefixed or delimited (a group);
 * - "wrapper": a google.protobuf.*Value held as its bare scalar;
 * - "struct": a google.protobuf.Struct held as JSON;
 * - "scalarList": packed or not, whatever the descriptor says;
 * - "messageList", "structList": one item per occurrence;
 * - "map": one entry per occurrence, key and value defaulting when missing.
 */
export type FieldReadKind =
  | "scalar"
  | "oneofScalar"
  | "closedEnum"
  | "message"
  | "oneofMessage"
  | "wrapper"
  | "struct"
  | "oneofStruct"
  | "scalarList"
  | "messageList"
  | "structList"
  | "map";

/** A map value: scalars (enums as int32), messages, or Struct as JSON. */
export type MapValueKind = "scalar" | "message" | "struct";

/** The message types behind google.protobuf.Struct's JSON form. */
export interface StructPlans {
  readonly struct: MessageDecodePlan;
  readonly value: MessageDecodePlan;
  readonly list: MessageDecodePlan;
}

/** One field, compiled. One constructor fills every property, so that all plans
 *  share one shape. */
export class FieldDecodePlan {
  readonly kind: FieldReadKind;
  readonly fieldNo: number;
  readonly localName: string;
  /** Oneof members: the group's localName. */
  readonly oneofName: string;
  /** Scalars, scalar list items, map values, a wrapper's field 1 (enums: INT32). */
  readonly scalar: ScalarType;
  /** 64-bit integers as decimal strings (jstype = JS_STRING). */
  readonly longAsString: boolean;
  /** Strings: invalid UTF-8 throws instead of becoming U+FFFD. */
  readonly validateUtf8: boolean;
  /** Scalar lists: a length-delimited occurrence is a packed run (not for strings
   *  and bytes), whatever the descriptor prefers. */
  readonly packable: boolean;
  /** Messages read as groups, up to an end tag with this field's number. */
  readonly delimited: boolean;
  /** Message kinds and message map values: the value's type (for Struct, the
   *  Struct message type itself). */
  readonly message: MessageDecodePlan | undefined;
  readonly struct: StructPlans | undefined;
  /** "closedEnum": the declared numbers. */
  readonly enumNumbers: ReadonlySet<number> | undefined;
  readonly mapKey: ScalarType;
  readonly mapValue: MapValueKind;
  /** A wrapper's value before field 1 is read; a map entry's scalar value when it
   *  has none (bytes get a fresh empty array per entry instead). */
  readonly zero: unknown;
  /** A map entry's key, as a property name, when it has none. */
  readonly keyZero: string;

  constructor(init: {
    kind: FieldReadKind;
    fieldNo: number;
    localName: string;
    oneofName?: string;
    scalar?: ScalarType;
    longAsString?: boolean;
    validateUtf8?: boolean;
    packable?: boolean;
    delimited?: boolean;
    message?: MessageDecodePlan;
    struct?: StructPlans;
    enumNumbers?: ReadonlySet<number>;
    mapKey?: ScalarType;
    mapValue?: MapValueKind;
    zero?: unknown;
    keyZero?: string;
  }) {
    this.kind = init.kind;
    this.fieldNo = init.fieldNo;
    this.localName = init.localName;
    this.oneofName = init.oneofName ?? "";
    this.scalar = init.scalar ?? ScalarType.INT32;
    this.longAsString = init.longAsString ?? false;
    this.validateUtf8 = init.validateUtf8 ?? false;
    this.packable = init.packable ?? false;
    this.delimited = init.delimited ?? false;
    this.message = init.message;
    this.struct = init.struct;
    this.enumNumbers = init.enumNumbers;
    this.mapKey = init.mapKey ?? ScalarType.STRING;
    this.mapValue = init.mapValue ?? "scalar";
    this.zero = init.zero;
    this.keyZero = init.keyZero ?? "";
  }
}

/** Field numbers up to this are looked up in an array, higher ones in a Map. */
const maxDenseFieldNo = 1024;

/** One message type: its factory and its fields by number. Registered before its
 *  fields are compiled, so that a recursive type finds itself. */
export class MessageDecodePlan {
  readonly typeName: string;
  readonly factory: MessageFactory;
  private readonly dense: (FieldDecodePlan | undefined)[] = [];
  private sparse: Map<number, FieldDecodePlan> | undefined = undefined;

  constructor(typeName: string, factory: MessageFactory) {
    this.typeName = typeName;
    this.factory = factory;
  }

  addField(field: FieldDecodePlan): void {
    const no = field.fieldNo;
    if (no > maxDenseFieldNo) {
      this.sparse ??= new Map();
      this.sparse.set(no, field);
      return;
    }
    while (this.dense.length <= no) this.dense.push(undefined);
    this.dense[no] = field;
  }

  /** The field with this number, or undefined for an unknown field. */
  fieldFor(fieldNo: number): FieldDecodePlan | undefined {
    if (fieldNo < this.dense.length) return this.dense[fieldNo];
    return this.sparse === undefined ? undefined : this.sparse.get(fieldNo);
  }
}

// The decoder only meets objects it made itself; these narrow without a cast at
// every use and throw (leaving the fast path) if that ever stops being true.

function isObject(value: unknown): value is DecodedMessage {
  return typeof value === "object" && value !== null;
}

/** A message, or a map field's record. */
export function asMessage(value: unknown): DecodedMessage {
  if (!isObject(value)) throw new Error("expected an object");
  return value;
}

export function asOneof(value: unknown): OneofValue {
  if (!isObject(value)) throw new Error("expected a oneof group");
  return value as OneofValue;
}

export function asList(value: unknown): unknown[] {
  if (!Array.isArray(value)) throw new Error("expected a list");
  return value;
}
