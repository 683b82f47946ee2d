/**
 * Per message type, a factory for the object `create(desc)` returns: the same own
 * properties in the same order, the same zero values (shared where create shares
 * them), fresh lists, maps and oneof groups, and the same prototype. Pure: no node:
 * imports. Learned once from a message create() builds, and checked.
 *
 * The factory is an object literal generated for the schema (new Function), because
 * V8 gives the objects of one literal one hidden class with every property inside
 * the object; a field the decoder adds later (a message field) is then a cheap
 * transition. Measured on Node 20, nothing else comes close: a clone of a template
 * with more than 18 properties keeps most of them outside the object, V8 turns it
 * into a dictionary as soon as the decoder adds a property (about a microsecond,
 * more than the rest of a small message costs), and a clone from a call site shared
 * by many schemas is slow in itself. Where code generation is not allowed (a
 * Content Security Policy without 'unsafe-eval', some edge runtimes), the template
 * is cloned anyway: the same objects, only slower for large schemas.
 */
import { create, type DescMessage } from "@bufbuild/protobuf";
import type { DecodedMessage } from "./decode-plan.js";

/** What create() puts in an own property: a zero value all messages share, or per
 *  message a new list, map or oneof group. */
type PropertyKind = "constant" | "list" | "map" | "oneof";

/** A message type's own properties, as create() makes them. */
interface MessageLayout {
  /** Own property names in create's order, $typeName first. */
  readonly keys: readonly string[];
  readonly kinds: readonly PropertyKind[];
  /** The constants' values (the others' are placeholders). */
  readonly values: readonly unknown[];
  /** proto2 and explicit presence: create's prototype, which holds field defaults. */
  readonly prototype: object | undefined;
}

export type MessageFactory = () => DecodedMessage;

/** Whether new Function works here; after one refusal it is not tried again. */
let codegenAllowed = true;

/**
 * A factory for messages of `desc`. Throws if create() makes something this does
 * not reproduce. `codegen: false` forces the cloning factory (for tests).
 */
export function createMessageFactory(desc: DescMessage, options: { codegen?: boolean } = {}): MessageFactory {
  const layout = learnLayout(desc);
  if (options.codegen ?? true) {
    const generated = generatedFactory(layout);
    if (generated !== undefined) return generated;
  }
  return cloningFactory(layout);
}

function learnLayout(desc: DescMessage): MessageLayout {
  const sample: DecodedMessage = create(desc);
  const keys = Object.keys(sample);
  if (Object.getOwnPropertyNames(sample).length !== keys.length || Object.getOwnPropertySymbols(sample).length > 0) {
    throw new Error(`${desc.typeName}: create() made hidden properties`);
  }
  if (keys[0] !== "$typeName" || keys.includes("__proto__")) {
    throw new Error(`${desc.typeName}: create() made unexpected properties`);
  }
  const prototype: unknown = Object.getPrototypeOf(sample);
  let ownPrototype: object | undefined;
  if (prototype === Object.prototype) {
    ownPrototype = undefined;
  } else if (typeof prototype === "object" && prototype !== null && Object.getPrototypeOf(prototype) === Object.prototype) {
    ownPrototype = prototype;
  } else {
    throw new Error(`${desc.typeName}: create() made an unexpected prototype`);
  }
  return {
    keys,
    kinds: keys.map((key, i) => (i === 0 ? "constant" : propertyKind(desc, key))),
    values: keys.map((key) => sample[key]),
    prototype: ownPrototype,
  };
}

function propertyKind(desc: DescMessage, key: string): PropertyKind {
  for (const member of desc.members) {
    if (member.localName !== key) continue;
    if (member.kind === "oneof") return "oneof";
    switch (member.fieldKind) {
      case "list":
        return "list";
      case "map":
        return "map";
      case "scalar":
      case "enum":
        return "constant";
      default:
        break;
    }
  }
  throw new Error(`${desc.typeName}: create() made property ${key}`);
}

/**
 * The generated factory, or undefined if code generation is refused. Property names
 * are quoted with JSON.stringify and values passed in, never written into the code.
 */
function generatedFactory(layout: MessageLayout): MessageFactory | undefined {
  if (!codegenAllowed) return undefined;
  const valueOf = (i: number): string => {
    switch (layout.kinds[i]) {
      case "list":
        return "[]";
      case "map":
        return "{}";
      case "oneof":
        return "{ case: undefined }";
      default:
        return `v[${i}]`;
    }
  };
  const names = layout.keys.map((key) => JSON.stringify(key));
  const body =
    layout.prototype === undefined
      ? `return { ${names.map((name, i) => `${name}: ${valueOf(i)}`).join(", ")} };`
      : `const m = objectCreate(p); ${names.map((name, i) => `m[${name}] = ${valueOf(i)};`).join(" ")} return m;`;
  let compile: FactoryCompiler;
  try {
    // The one cast: the generated source above has exactly this signature.
    compile = new Function("v", "p", "objectCreate", `"use strict"; return function create() { ${body} };`) as FactoryCompiler;
  } catch {
    // Refused (an EvalError under a Content Security Policy): clone instead, from now on.
    codegenAllowed = false;
    return undefined;
  }
  const factory = compile(layout.values, layout.prototype, Object.create);
  generalizeFields(factory, layout);
  return factory;
}

type FactoryCompiler = (values: readonly unknown[], prototype: object | undefined, objectCreate: typeof Object.create) => MessageFactory;

/**
 * Stores an object, then the zero value again, in each constant property of one
 * message. V8 then keeps these fields in its most general representation for every
 * message of the factory; otherwise the first decoded value of another kind (a
 * double where create's zero is the integer 0) would deprecate the hidden class the
 * factory starts from, and each later message would be migrated, at about a
 * microsecond each.
 */
function generalizeFields(factory: MessageFactory, layout: MessageLayout): void {
  const sample = factory();
  layout.keys.forEach((key, i) => {
    if (layout.kinds[i] !== "constant") return;
    sample[key] = emptyObject;
    sample[key] = layout.values[i];
  });
}

/** Without code generation: a template with create's properties, cloned. */
function cloningFactory(layout: MessageLayout): MessageFactory {
  const { keys, kinds, values, prototype } = layout;
  // JSON.parse builds an object with fast properties in one step.
  const template = asDecodedMessage(JSON.parse(`{${keys.map((key) => `${JSON.stringify(key)}:null`).join(",")}}`));
  keys.forEach((key, i) => {
    // See generalizeFields: clones share the template's hidden class.
    template[key] = emptyObject;
    template[key] = 0;
    template[key] = values[i];
  });
  const fresh = keys.flatMap((_, i) => (kinds[i] === "constant" ? [] : [i]));
  if (prototype === undefined) {
    return () => {
      const message = { ...template };
      for (let i = 0; i < fresh.length; i++) {
        const at = fresh[i]!;
        message[keys[at]!] = freshValue(kinds[at]);
      }
      return message;
    };
  }
  return () => {
    const message = Object.create(prototype) as DecodedMessage;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const kind = kinds[i];
      message[key] = kind === "constant" ? template[key] : freshValue(kind);
    }
    return message;
  };
}

const emptyObject = {};

function freshValue(kind: PropertyKind | undefined): unknown {
  switch (kind) {
    case "list":
      return [];
    case "map":
      return {};
    default:
      return { case: undefined };
  }
}

function asDecodedMessage(value: unknown): DecodedMessage {
  if (typeof value !== "object" || value === null) throw new Error("not an object");
  return value as DecodedMessage;
}
