/**
 * Test-only: deterministic random messages for any schema, built through protobuf-es's
 * reflect API so every value is held the way protobuf-es holds it (Struct as JSON,
 * wrappers unwrapped, 64-bit as bigint or string). Used by encoder.test.ts and
 * decoder.test.ts to compare the compiled code with toBinary and fromBinary.
 */
import {
  create,
  type DescEnum,
  type DescExtension,
  type DescField,
  type DescMessage,
  type MessageShape,
  ScalarType,
  setExtension,
} from "@bufbuild/protobuf";
import { reflect, type ReflectMessage } from "@bufbuild/protobuf/reflect";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";

/** mulberry32: small, fast, and the same sequence on every run for a given seed. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error("pick from an empty list");
    return item;
  }
  uint32(): number {
    return (this.next() * 4294967296) >>> 0;
  }
}

export interface RandomMessageOptions {
  /** Only values that survive a decode unchanged: no NaN, no lone surrogates. */
  readonly clean: boolean;
  readonly maxDepth: number;
  /** Extensions of this message type to set now and then (kept in $unknown). */
  readonly extensions?: readonly DescExtension[];
}

export function randomMessage<Desc extends DescMessage>(
  desc: Desc,
  rng: Rng,
  options: RandomMessageOptions,
): MessageShape<Desc> {
  const r = reflect(desc, undefined, options.clean); // reflect rejects lone surrogates
  fill(r, rng, options, 0);
  const message = r.message as MessageShape<Desc>;
  for (const ext of options.extensions ?? []) {
    if (ext.extendee.typeName === desc.typeName && rng.chance(0.3)) {
      setExtension(message, ext, extensionValue(ext, rng, options));
    }
  }
  if (rng.chance(0.1)) message.$unknown = randomUnknownFields(desc, rng);
  return message;
}

function fill(r: ReflectMessage, rng: Rng, options: RandomMessageOptions, depth: number): void {
  for (const member of r.desc.members) {
    if (member.kind === "oneof") {
      if (rng.chance(0.6)) setField(r, rng.pick(member.fields), rng, options, depth);
      continue;
    }
    const required = member.presence === FeatureSet_FieldPresence.LEGACY_REQUIRED;
    if (required || rng.chance(0.5)) setField(r, member, rng, options, depth);
  }
}

function setField(r: ReflectMessage, field: DescField, rng: Rng, options: RandomMessageOptions, depth: number): void {
  switch (field.fieldKind) {
    case "scalar":
      r.set(field, scalarValue(field.scalar, field.longAsString, rng, options));
      return;
    case "enum":
      r.set(field, enumValue(field.enum, rng));
      return;
    case "message":
      if (depth >= options.maxDepth && field.presence !== FeatureSet_FieldPresence.LEGACY_REQUIRED) return;
      r.set(field, childMessage(field.message, rng, options, depth));
      return;
    case "list": {
      const list = r.get(field);
      // Long lists of scalars, short lists of messages: nesting multiplies.
      const n = rng.chance(0.1) && field.listKind !== "message" ? rng.int(40) : rng.int(4);
      for (let i = 0; i < n; i++) {
        switch (field.listKind) {
          case "scalar":
            list.add(scalarValue(field.scalar, field.longAsString, rng, options));
            break;
          case "enum":
            list.add(enumValue(field.enum, rng));
            break;
          case "message":
            if (depth >= options.maxDepth) return;
            list.add(childMessage(field.message, rng, options, depth));
            break;
        }
      }
      return;
    }
    case "map": {
      const map = r.get(field);
      const n = rng.int(4);
      for (let i = 0; i < n; i++) {
        const key = scalarValue(field.mapKey, false, rng, { ...options, clean: true });
        switch (field.mapKind) {
          case "scalar":
            map.set(key, scalarValue(field.scalar, false, rng, options));
            break;
          case "enum":
            map.set(key, enumValue(field.enum, rng));
            break;
          case "message":
            if (depth >= options.maxDepth) return;
            map.set(key, childMessage(field.message, rng, options, depth));
            break;
        }
      }
      return;
    }
  }
}

function childMessage(desc: DescMessage, rng: Rng, options: RandomMessageOptions, depth: number): ReflectMessage {
  const child = reflect(desc, undefined, options.clean);
  fill(child, rng, options, depth + 1);
  return child;
}

function enumValue(desc: DescEnum, rng: Rng): number {
  // Open enums hold unknown numbers too, negative ones included.
  if (desc.open && rng.chance(0.15)) return rng.pick([7, 1000, -2, 0x7fffffff, -0x80000000]);
  return rng.pick(desc.values).number;
}

const int32Edges = [0, 0, 1, -1, 127, 128, 16383, 16384, 0x7fffffff, -0x80000000];
const uint32Edges = [0, 0, 1, 127, 128, 0x7fffffff, 0x80000000, 0xffffffff];
const int64Edges = [0n, 1n, -1n, 2n ** 31n, 2n ** 32n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n)];
const uint64Edges = [0n, 1n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n];
const doubleEdges = [0, -0, 1, -1.5, 1e-310, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity];

/** A random value of a scalar type, edge values a third of the time. */
export function scalarValue(
  type: ScalarType,
  longAsString: boolean,
  rng: Rng,
  options: Pick<RandomMessageOptions, "clean">,
): unknown {
  const edge = rng.chance(0.35);
  switch (type) {
    case ScalarType.DOUBLE:
      if (!options.clean && rng.chance(0.05)) return NaN;
      return edge ? rng.pick(doubleEdges) : (rng.next() - 0.5) * 10 ** rng.int(30);
    case ScalarType.FLOAT:
      if (!options.clean && rng.chance(0.05)) return NaN;
      return Math.fround(edge ? rng.pick(doubleEdges.filter((d) => Math.abs(d) < 3e38 || !Number.isFinite(d))) : (rng.next() - 0.5) * 10 ** rng.int(20));
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return edge ? rng.pick(int32Edges) : rng.uint32() | 0;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return edge ? rng.pick(uint32Edges) : rng.uint32() >>> rng.int(32);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64: {
      const v = edge ? rng.pick(int64Edges) : BigInt.asIntN(64, randomBits64(rng));
      return longAsString ? v.toString() : v;
    }
    case ScalarType.UINT64:
    case ScalarType.FIXED64: {
      const v = edge ? rng.pick(uint64Edges) : randomBits64(rng);
      return longAsString ? v.toString() : v;
    }
    case ScalarType.BOOL:
      return rng.chance(0.5);
    case ScalarType.STRING:
      return randomString(rng, options.clean);
    case ScalarType.BYTES: {
      const n = rng.chance(0.05) ? rng.int(5000) : rng.int(rng.chance(0.5) ? 8 : 200);
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) bytes[i] = rng.int(256);
      return bytes;
    }
  }
}

/** 64 random bits, shifted right by a random amount so small values are common. */
function randomBits64(rng: Rng): bigint {
  const bits = (BigInt(rng.uint32()) << 32n) | BigInt(rng.uint32());
  return bits >> BigInt(rng.int(64));
}

const asciiAlphabet = "abcXYZ019 _-/\t\n\u0000\u007f";
const wideAlphabet = ["é", "ß", "\u07ff", "\u0800", "€", "日本", "\uffff", "😀", "\u{10ffff}", "\ufeff"];
const loneSurrogates = ["\ud800", "\udbff", "\udc00", "\udfff"];

/** ASCII, two-, three- and four-byte UTF-8, and (unless clean) lone surrogates; short,
 *  past the native-encoding thresholds, and past 127 bytes (two-byte lengths). */
export function randomString(rng: Rng, clean: boolean): string {
  const n = rng.chance(0.1) ? rng.int(400) : rng.int(rng.chance(0.5) ? 6 : 60);
  const ascii = rng.chance(0.6);
  let s = "";
  for (let i = 0; i < n; i++) {
    if (ascii || rng.chance(0.6)) s += asciiAlphabet[rng.int(asciiAlphabet.length)];
    else if (!clean && rng.chance(0.15)) s += rng.pick(loneSurrogates);
    else s += rng.pick(wideAlphabet);
  }
  return s;
}

/** A value for setExtension: for an extension not known statically, its type is unknown. */
function extensionValue(ext: DescExtension, rng: Rng, options: RandomMessageOptions): unknown {
  switch (ext.fieldKind) {
    case "scalar":
      return scalarValue(ext.scalar, ext.longAsString, rng, options);
    case "enum":
      return enumValue(ext.enum, rng);
    case "message":
      return randomMessage(ext.message, rng, { ...options, maxDepth: 0, extensions: [] });
    case "list": {
      const items: unknown[] = [];
      const n = rng.int(4);
      for (let i = 0; i < n; i++) {
        if (ext.listKind === "scalar") items.push(scalarValue(ext.scalar, ext.longAsString, rng, options));
        else if (ext.listKind === "enum") items.push(enumValue(ext.enum, rng));
        else items.push(create(ext.message));
      }
      return items;
    }
  }
}

/** Well-formed unknown fields with numbers the schema does not use. */
function randomUnknownFields(desc: DescMessage, rng: Rng): { no: number; wireType: WireType; data: Uint8Array }[] {
  const used = new Set(desc.fields.map((f) => f.number));
  const fields: { no: number; wireType: WireType; data: Uint8Array }[] = [];
  const n = 1 + rng.int(3);
  for (let i = 0; i < n; i++) {
    let no = 5000 + rng.int(20000);
    while (used.has(no)) no++;
    const writer = new BinaryWriter();
    const wireType = rng.pick([WireType.Varint, WireType.Bit32, WireType.Bit64, WireType.LengthDelimited]);
    switch (wireType) {
      case WireType.Varint:
        writer.uint64(randomBits64(rng));
        break;
      case WireType.Bit32:
        writer.fixed32(rng.uint32());
        break;
      case WireType.Bit64:
        writer.fixed64(randomBits64(rng));
        break;
      default:
        writer.bytes(new Uint8Array(rng.int(20)).fill(rng.int(256)));
    }
    fields.push({ no, wireType, data: writer.finish() });
  }
  return fields;
}
