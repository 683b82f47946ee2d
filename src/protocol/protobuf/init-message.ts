/**
 * Messages from init objects: what `create(desc, init)` returns, compiled per message
 * type for the types whose every field is a scalar or enum, singular with implicit
 * presence or a list (proto3 without `optional`, oneofs, maps or message fields; bench
 * Payload, say). A handler that answers `{ body }` then costs ~5 ns per message instead
 * of create()'s ~45. Pure: no node: imports.
 *
 * The message is create()'s, property for property: the decoder's factory makes
 * create's zero message (same properties, order and prototype), and each init value
 * create would take replaces its zero where it stands, converted as create converts it
 * (bytes given as an array of numbers become a Uint8Array). Other types, and runtimes
 * that refuse code generation, use create() itself.
 */
import { create, type DescMessage, type MessageInitShape, type MessageShape, ScalarType } from "@bufbuild/protobuf";
import { createMessageFactory, type MessageFactory } from "./decode-factory.js";

/** A message of `Desc` from a message (returned as it is) or an init object. */
export type MessageMaker<Desc extends DescMessage = DescMessage> = (value: MessageInitShape<Desc> | MessageShape<Desc>) => MessageShape<Desc>;

/** google.protobuf.FeatureSet.FieldPresence.IMPLICIT */
const implicitPresence = 2;

const makers = new WeakMap<DescMessage, MessageMaker>();

/** The maker for `desc`, built on first use and cached per descriptor. */
export function getMessageMaker<Desc extends DescMessage>(desc: Desc): MessageMaker<Desc> {
  let maker = makers.get(desc);
  if (maker === undefined) {
    maker = createMessageMaker(desc);
    makers.set(desc, maker);
  }
  // The cache is keyed by the descriptor, so the maker is the one for Desc.
  return maker as MessageMaker<Desc>;
}

function createMessageMaker(desc: DescMessage): MessageMaker {
  const typeName = desc.typeName;
  const fromInit = compileFromInit(desc) ?? ((init: unknown) => create(desc, init as never));
  return (value) => ((value as { $typeName?: unknown }).$typeName === typeName ? (value as MessageShape<DescMessage>) : fromInit(value));
}

type FromInit = (init: unknown) => MessageShape<DescMessage>;
type FromInitCompiler = (factory: MessageFactory, isArray: typeof Array.isArray, toBytes: (value: unknown) => unknown) => FromInit;

/** create's conversion of a bytes init value: an array of numbers becomes a Uint8Array. */
function toBytes(value: unknown): unknown {
  return Array.isArray(value) ? new Uint8Array(value as number[]) : value;
}

/**
 * The compiled create for a type whose fields all qualify, or undefined. Property
 * names are quoted with JSON.stringify, never written into the code as they are.
 */
export function compileFromInit(desc: DescMessage): FromInit | undefined {
  if (!desc.members.every(qualifies)) return undefined;
  let factory: MessageFactory;
  try {
    factory = createMessageFactory(desc);
  } catch {
    return undefined;
  }
  const steps = desc.fields.map((field) => {
    const name = JSON.stringify(field.localName);
    const bytes = field.scalar === ScalarType.BYTES;
    // Singular: create keeps the zero for null and undefined. List: create keeps
    // its fresh empty list for them, or takes the init's list as it is.
    const converted = field.fieldKind === "list" ? (bytes ? "isArray(v) ? v.map(toBytes) : v" : "v") : bytes ? "toBytes(v)" : "v";
    return `v = init[${name}]; if (v != null) m[${name}] = ${converted};`;
  });
  let compile: FromInitCompiler;
  try {
    // The one cast: the generated source has exactly this signature.
    compile = new Function(
      "factory",
      "isArray",
      "toBytes",
      `"use strict"; return function fromInit(init) { const m = factory(); if (init == null) return m; let v; ${steps.join(" ")} return m; };`,
    ) as FromInitCompiler;
  } catch {
    // Refused (a Content Security Policy without 'unsafe-eval'): create() it is.
    return undefined;
  }
  return compile(factory, Array.isArray, toBytes);
}

/** A member create() takes from the init as it is, bytes aside: no oneof, message or map. */
function qualifies(member: DescMessage["members"][number]): boolean {
  if (member.kind !== "field") return false;
  switch (member.fieldKind) {
    case "scalar":
    case "enum":
      return member.presence === implicitPresence;
    case "list":
      return member.listKind !== "message";
    default:
      return false;
  }
}
