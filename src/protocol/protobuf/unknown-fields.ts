/**
 * Unknown fields, and extensions, which protobuf-es v2 keeps among them: toBinary writes
 * them after the known fields, as stored (default writeUnknownFields: true). Pure: no
 * node: imports.
 */
import { type EncodeState, fallback } from "./encode-state.js";
import { asLocalMessage, type LocalMessage } from "./local-message.js";
import { makeTag, varint32Size, writeBytesRaw, writeVarint32 } from "./wire-writes.js";

/** Bytes of `$unknown`'s { no, wireType, data } entries. */
export function unknownFieldsSize(unknown: readonly unknown[]): number {
  let size = 0;
  for (let i = 0; i < unknown.length; i++) {
    const field = asLocalMessage(unknown[i]);
    size += varint32Size(unknownTag(field)) + unknownData(field).length;
  }
  return size;
}

export function writeUnknownFields(unknown: readonly unknown[], st: EncodeState): void {
  for (let i = 0; i < unknown.length; i++) {
    const field = asLocalMessage(unknown[i]);
    writeVarint32(st, unknownTag(field));
    writeBytesRaw(st, unknownData(field));
  }
}

function unknownTag(field: LocalMessage): number {
  const { no, wireType } = field;
  return typeof no === "number" && typeof wireType === "number" ? makeTag(no, wireType) : fallback();
}

function unknownData(field: LocalMessage): Uint8Array {
  const data = field.data;
  return data instanceof Uint8Array ? data : fallback();
}
