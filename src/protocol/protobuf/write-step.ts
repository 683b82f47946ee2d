/**
 * The write pass: replays the steps the plan recorded into the output buffer. Pure: no
 * node: imports. Steps are built once per field when a schema is compiled; the replay
 * never reads the message, only the values the plan recorded with each step.
 */
import { ScalarType } from "@bufbuild/protobuf";
import { type EncodeState, fallback } from "./encode-state.js";
import { type StructLayout, writeStruct } from "./json-struct-codec.js";
import { asList } from "./local-message.js";
import { writeScalar } from "./scalar.js";
import { writeUnknownFields } from "./unknown-fields.js";
import { makeTag, writeVarint32 } from "./wire-writes.js";

export type WriteStepOp =
  /** tag, scalar value */
  | "scalar"
  /** tag, stored length: starts a length-prefixed message (its fields follow as steps) */
  | "lengthPrefix"
  /** a group's start or end tag */
  | "tag"
  /** tag, stored length, then field 1 (innerTag, scalar) unless the length is 0 */
  | "wrapper"
  /** tag, stored length, a google.protobuf.Struct from JSON */
  | "jsonStruct"
  /** tag, stored length, the list's scalars */
  | "packed"
  /** tag and scalar for each item of the list */
  | "unpacked"
  /** tag, stored length, key (innerTag, scalar); the value follows as a step */
  | "mapEntry"
  /** the message's unknown fields, as stored */
  | "unknownFields";

/**
 * One kind of write, with the constants it needs. Every step has the same fields, so
 * replay's reads stay monomorphic; which ones matter depends on `op`.
 */
export class WriteStep {
  constructor(
    readonly op: WriteStepOp,
    readonly tag: number,
    /** Type of the value ("scalar", list items, a map key, a wrapper's field 1). */
    readonly scalar: ScalarType,
    /** "wrapper": the tag of field 1; "mapEntry": the key's tag. */
    readonly innerTag = 0,
    /** "jsonStruct": where Struct, Value and ListValue keep their fields. */
    readonly struct: StructLayout | undefined = undefined,
  ) {}
}

/** A step writing just a tag: a group's start or end. */
export function tagStep(fieldNo: number, wireType: number): WriteStep {
  return new WriteStep("tag", makeTag(fieldNo, wireType), ScalarType.INT32);
}

/** Writes every recorded step, from st.pos on. */
export function replay(st: EncodeState): void {
  const { steps, values } = st;
  const n = st.stepCount;
  for (let i = 0; i < n; i++) {
    const step = steps[i] ?? fallback();
    // Most steps are tagged scalars: handled here, one call fewer per field.
    if (step.op === "scalar") {
      writeVarint32(st, step.tag);
      writeScalar(step.scalar, values[i], st);
    } else {
      writeStep(step, values[i], st);
    }
  }
}

function writeStep(step: WriteStep, value: unknown, st: EncodeState): void {
  switch (step.op) {
    case "scalar":
      writeVarint32(st, step.tag);
      writeScalar(step.scalar, value, st);
      return;
    case "lengthPrefix":
      writeVarint32(st, step.tag);
      writeVarint32(st, st.nextLength());
      return;
    case "tag":
      writeVarint32(st, step.tag);
      return;
    case "wrapper": {
      writeVarint32(st, step.tag);
      const n = st.nextLength();
      writeVarint32(st, n);
      if (n > 0) {
        writeVarint32(st, step.innerTag);
        writeScalar(step.scalar, value, st);
      }
      return;
    }
    case "jsonStruct":
      writeVarint32(st, step.tag);
      writeVarint32(st, st.nextLength());
      writeStruct(step.struct ?? fallback(), value, st);
      return;
    case "packed": {
      writeVarint32(st, step.tag);
      writeVarint32(st, st.nextLength());
      const items = asList(value);
      for (let i = 0; i < items.length; i++) writeScalar(step.scalar, items[i], st);
      return;
    }
    case "unpacked": {
      const items = asList(value);
      for (let i = 0; i < items.length; i++) {
        writeVarint32(st, step.tag);
        writeScalar(step.scalar, items[i], st);
      }
      return;
    }
    case "mapEntry":
      writeVarint32(st, step.tag);
      writeVarint32(st, st.nextLength());
      writeVarint32(st, step.innerTag);
      writeScalar(step.scalar, value, st);
      return;
    case "unknownFields":
      writeUnknownFields(asList(value), st);
      return;
    default:
      return step.op satisfies never;
  }
}
