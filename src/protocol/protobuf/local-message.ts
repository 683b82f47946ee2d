/**
 * Messages as protobuf-es v2 holds them in memory. Pure: no node: imports.
 */
import { fallback } from "./encode-state.js";

/** A plain object with one property per field (by localName) or oneof, plus
 *  `$typeName` and optional `$unknown`. Field values are read as unknown and narrowed
 *  where they are encoded. */
export type LocalMessage = { readonly [property: string]: unknown };

function isObject(value: unknown): value is LocalMessage {
  return typeof value === "object" && value !== null;
}

/** Narrows a value that must be a message, a oneof ({ case, value }) or a map record. */
export function asLocalMessage(value: unknown): LocalMessage {
  return isObject(value) ? value : fallback();
}

/** Narrows a value that must be a list (repeated field, $unknown). */
export function asList(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : fallback();
}
