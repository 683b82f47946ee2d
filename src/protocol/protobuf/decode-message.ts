/**
 * The decode loop: reads tags, dispatches each by field number to its compiled plan,
 * keeps unknown fields, and mirrors fromBinary's behaviour wherever it is
 * observable: which value wins, what merges, what goes to $unknown and in which
 * property order, and which input throws. Pure: no node: imports.
 */
import { ScalarType } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import { asList, asMessage, asOneof, type DecodedMessage, type FieldDecodePlan, type MessageDecodePlan } from "./decode-plan.js";
import { checkTag, readInt32, readLengthEnd, readTag, type ReadState, recursionLimit, skipField } from "./decode-reader.js";
import { readScalar } from "./decode-scalar.js";
import { setOwn, structFromJson, structToJson } from "./decode-struct.js";

/**
 * Reads fields into `message` until `end`, or for a group (`groupNo` > 0) up to the
 * end tag with that number. `depth` counts enclosing messages, this one included;
 * past protobuf-es's recursion limit it throws, as fromBinary does. `merging`: the
 * message was read before (a message field met again) and may have unknown fields.
 */
export function readMessage(
  plan: MessageDecodePlan,
  message: DecodedMessage,
  st: ReadState,
  end: number,
  depth: number,
  groupNo: number,
  merging: boolean,
): void {
  if (depth > recursionLimit) {
    throw new Error(`cannot decode ${plan.typeName} from binary: maximum recursion depth of ${recursionLimit} reached`);
  }
  // Unknown fields go to the list the message had when reading began (a message
  // merged into already has one), else to a new list set at the end. fromBinary
  // does the same; a closed enum's unknown value goes to message.$unknown directly.
  let unknown = merging ? message.$unknown : undefined;
  let groupEnded = false;
  const buf = st.buf;
  while (st.pos < end) {
    let tag = st.pos < st.len ? buf[st.pos]! : 0x80;
    if (tag < 0x80) {
      st.pos++;
      checkTag(tag);
    } else {
      tag = readTag(st);
    }
    const fieldNo = tag >>> 3;
    const wireType = tag & 7;
    if (groupNo !== 0 && wireType === WireType.EndGroup) {
      if (fieldNo !== groupNo) throw new Error("invalid end group tag");
      groupEnded = true;
      break;
    }
    const field = plan.fieldFor(fieldNo);
    if (field !== undefined) {
      readField(field, message, st, wireType, depth);
      continue;
    }
    const data = skipField(st, wireType, fieldNo, recursionLimit - depth);
    unknown ??= [];
    unknown.push({ no: fieldNo, wireType, data });
  }
  if (groupNo !== 0 && !groupEnded) throw new Error("invalid end group tag");
  if (unknown !== undefined && unknown.length > 0) message.$unknown = unknown;
}

/** One occurrence of a known field. The wire type matters only where fromBinary
 *  looks at it: packed runs, and a closed enum's unknown value. */
function readField(f: FieldDecodePlan, message: DecodedMessage, st: ReadState, wireType: number, depth: number): void {
  switch (f.kind) {
    case "scalar":
      message[f.localName] = readScalar(st, f.scalar, f.longAsString, f.validateUtf8);
      return;
    case "oneofScalar":
      message[f.oneofName] = { case: f.localName, value: readScalar(st, f.scalar, f.longAsString, f.validateUtf8) };
      return;
    case "closedEnum":
      readClosedEnum(f, message, st, wireType);
      return;
    case "message":
      message[f.localName] = readChild(f, asMessageOrUndefined(message[f.localName]), st, depth);
      return;
    case "oneofMessage": {
      const oneof = asOneof(message[f.oneofName]);
      const existing = oneof.case === f.localName ? asMessageOrUndefined(oneof.value) : undefined;
      message[f.oneofName] = { case: f.localName, value: readChild(f, existing, st, depth) };
      return;
    }
    case "wrapper":
      message[f.localName] = readWrapper(f, message[f.localName], st, depth);
      return;
    case "struct":
      message[f.localName] = readStruct(f, message[f.localName], st, depth);
      return;
    case "oneofStruct": {
      const oneof = asOneof(message[f.oneofName]);
      const existing = oneof.case === f.localName ? oneof.value : undefined;
      message[f.oneofName] = { case: f.localName, value: readStruct(f, existing, st, depth) };
      return;
    }
    case "scalarList":
      readScalarList(f, asList(message[f.localName]), st, wireType);
      return;
    case "messageList":
      asList(message[f.localName]).push(readChild(f, undefined, st, depth));
      return;
    case "structList":
      asList(message[f.localName]).push(readStruct(f, undefined, st, depth));
      return;
    case "map":
      readMapEntry(f, asMessage(message[f.localName]), st, depth);
      return;
    default:
      return f.kind satisfies never;
  }
}

/** A message value: merged into `existing` if there is one, else a new message. */
function readChild(f: FieldDecodePlan, existing: DecodedMessage | undefined, st: ReadState, depth: number): DecodedMessage {
  const plan = planOf(f);
  const child = existing ?? plan.factory();
  if (f.delimited) {
    readMessage(plan, child, st, st.len, depth + 1, f.fieldNo, existing !== undefined);
  } else {
    const end = readLengthEnd(st);
    readMessage(plan, child, st, end, depth + 1, 0, existing !== undefined);
  }
  return child;
}

/**
 * A wrapper message's field 1, starting from the current value (a wrapper met again
 * keeps it unless field 1 comes again). Anything else inside is checked and dropped,
 * as fromBinary drops the wrapper's unknown fields with the wrapper.
 */
function readWrapper(f: FieldDecodePlan, current: unknown, st: ReadState, depth: number): unknown {
  const end = readLengthEnd(st);
  const wrapperDepth = depth + 1;
  if (wrapperDepth > recursionLimit) {
    throw new Error(`cannot decode ${planOf(f).typeName} from binary: maximum recursion depth of ${recursionLimit} reached`);
  }
  let value = current === undefined ? f.zero : current;
  while (st.pos < end) {
    const tag = readTag(st);
    if (tag >>> 3 === 1) value = readScalar(st, f.scalar, f.longAsString, f.validateUtf8);
    else skipField(st, tag & 7, tag >>> 3, recursionLimit - wrapperDepth);
  }
  return value;
}

/** A google.protobuf.Struct held as JSON: read as a message (merged into the
 *  current JSON, if any), then turned into JSON, as fromBinary does it. */
function readStruct(f: FieldDecodePlan, current: unknown, st: ReadState, depth: number): unknown {
  const plans = f.struct;
  if (plans === undefined) throw new Error(`${f.localName}: no Struct plans`);
  const struct = current === undefined ? undefined : structFromJson(plans, current);
  return structToJson(readChild(f, struct, st, depth));
}

function readClosedEnum(f: FieldDecodePlan, message: DecodedMessage, st: ReadState, wireType: number): void {
  const value = readInt32(st);
  if (f.enumNumbers?.has(value)) {
    if (f.oneofName === "") message[f.localName] = value;
    else message[f.oneofName] = { case: f.localName, value };
    return;
  }
  // The value is written back as an int32 varint, under the tag's own wire type.
  const unknown = message.$unknown ?? [];
  unknown.push({ no: f.fieldNo, wireType, data: int32Varint(value) });
  message.$unknown = unknown;
}

function int32Varint(value: number): Uint8Array {
  const bytes: number[] = [];
  if (value >= 0) {
    while (value > 0x7f) {
      bytes.push((value & 0x7f) | 0x80);
      value >>>= 7;
    }
    bytes.push(value);
  } else {
    for (let i = 0; i < 9; i++) {
      bytes.push((value & 0x7f) | 0x80);
      value >>= 7;
    }
    bytes.push(1);
  }
  return new Uint8Array(bytes);
}

/** A length-delimited occurrence of a numeric list is a packed run; any other is
 *  one item, whatever the descriptor's packed option says. */
function readScalarList(f: FieldDecodePlan, list: unknown[], st: ReadState, wireType: number): void {
  if (wireType !== WireType.LengthDelimited || !f.packable) {
    list.push(readScalar(st, f.scalar, f.longAsString, f.validateUtf8));
    return;
  }
  const end = readLengthEnd(st);
  while (st.pos < end) list.push(readScalar(st, f.scalar, f.longAsString, f.validateUtf8));
}

/**
 * One map entry: key in field 1, value in field 2, either missing (then the zero
 * value) or repeated (the last key wins; message values merge). A key seen before
 * keeps its place and takes the new value.
 */
function readMapEntry(f: FieldDecodePlan, record: DecodedMessage, st: ReadState, depth: number): void {
  const end = readLengthEnd(st);
  let key: unknown = undefined;
  let value: unknown = undefined;
  while (st.pos < end) {
    const tag = readTag(st);
    switch (tag >>> 3) {
      case 1:
        key = readScalar(st, f.mapKey, false, f.validateUtf8);
        break;
      case 2:
        value = readMapValue(f, value, st, depth);
        break;
      default:
        skipField(st, tag & 7, tag >>> 3, recursionLimit - depth);
    }
  }
  const name = key === undefined ? f.keyZero : typeof key === "string" ? key : String(key);
  if (value === undefined) value = mapValueZero(f);
  setOwn(record, name, value);
}

function readMapValue(f: FieldDecodePlan, current: unknown, st: ReadState, depth: number): unknown {
  switch (f.mapValue) {
    case "scalar":
      return readScalar(st, f.scalar, false, f.validateUtf8);
    case "message": {
      const plan = planOf(f);
      const child = current === undefined ? plan.factory() : asMessage(current);
      readMessage(plan, child, st, readLengthEnd(st), depth + 1, 0, current !== undefined);
      return child;
    }
    case "struct":
      return readStruct(f, current, st, depth);
    default:
      return f.mapValue satisfies never;
  }
}

function mapValueZero(f: FieldDecodePlan): unknown {
  switch (f.mapValue) {
    case "scalar":
      return f.scalar === ScalarType.BYTES ? new Uint8Array(0) : f.zero;
    case "message":
      return planOf(f).factory();
    case "struct":
      return {};
    default:
      return f.mapValue satisfies never;
  }
}

function planOf(f: FieldDecodePlan): MessageDecodePlan {
  if (f.message === undefined) throw new Error(`${f.localName}: no message plan`);
  return f.message;
}



function asMessageOrUndefined(value: unknown): DecodedMessage | undefined {
  return value === undefined ? undefined : asMessage(value);
}


