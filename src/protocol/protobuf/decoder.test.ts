import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, type DescMessage, equals, fromBinary, type MessageShape, setExtension, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import {
  AnySchema,
  DurationSchema,
  FileDescriptorProtoSchema,
  ListValueSchema,
  StructSchema,
  TimestampSchema,
  ValueSchema,
} from "@bufbuild/protobuf/wkt";
import { OrderSchema, PayloadSchema } from "../../../bench/gen/bench_pb.js";
import { SimpleRequestSchema } from "../../../interop/gen/grpc/testing/messages_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import { getMessageDecodePlan } from "./decode-compile.js";
import { createMessageFactory } from "./decode-factory.js";
import { decodeCompiled, getMessageDecoder } from "./decoder.js";
import { DelimitedStructSchema, DelimitedWrapperSchema } from "./testdata/gen/grpcts/decoder/test/fallback_pb.js";
import { EditionsMessageSchema } from "./testdata/gen/grpcts/encoder/test/editions_pb.js";
import { ext_int32, ext_message, Proto2MessageSchema, Proto2RequiredSchema } from "./testdata/gen/grpcts/encoder/test/proto2_pb.js";
import { Proto3MessageSchema } from "./testdata/gen/grpcts/encoder/test/proto3_pb.js";
import { assertSameBytes, corpusExtensions, corpusSchemas, hex, seedOf } from "./testdata/corpus.js";
import { randomMessage, Rng } from "./testdata/random-message.js";

const schemas = corpusSchemas;
const extensions = corpusExtensions;

const randomMessagesPerSchema = 300;

/**
 * Stricter than deepStrictEqual: the same prototypes (by identity), own property
 * names in the same order, bigint vs string, -0 vs 0, and bytes that are views of the
 * input exactly where fromBinary's are, at the same offsets.
 */
function assertSameValue(got: unknown, want: unknown, input: Uint8Array, path: string): void {
  if (typeof want !== "object" || want === null) {
    if (!Object.is(got, want)) assert.fail(`${path}: got ${String(got)} (${typeof got}), want ${String(want)} (${typeof want})`);
    return;
  }
  if (typeof got !== "object" || got === null) assert.fail(`${path}: got ${String(got)}, want an object`);
  assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(want), `${path}: prototype`);
  if (want instanceof Uint8Array) {
    assert.ok(got instanceof Uint8Array, `${path}: not a Uint8Array`);
    assertSameBytes(got, want, path);
    const wantView = want.buffer === input.buffer;
    assert.equal(got.buffer === input.buffer, wantView, `${path}: view of the input or not`);
    if (wantView) assert.equal(got.byteOffset, want.byteOffset, `${path}: view offset`);
    return;
  }
  const gotKeys = Object.getOwnPropertyNames(got);
  const wantKeys = Object.getOwnPropertyNames(want);
  if (gotKeys.join("\0") !== wantKeys.join("\0")) assert.deepEqual(gotKeys, wantKeys, `${path}: own properties`);
  if (Object.keys(got).length !== Object.keys(want).length) assert.deepEqual(Object.keys(got), Object.keys(want), `${path}: enumerable properties`);
  const gotRecord = got as { readonly [key: string]: unknown };
  const wantRecord = want as { readonly [key: string]: unknown };
  for (const key of wantKeys) {
    const g = gotRecord[key];
    const w = wantRecord[key];
    // Equal primitives need no path; everything else is compared in depth.
    if (Object.is(g, w) && (typeof w !== "object" || w === null)) continue;
    assertSameValue(g, w, input, `${path}.${key}`);
  }
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function attempt(run: () => unknown): Outcome {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * The compiled fast path alone and the public decoder against fromBinary: both
 * throw (an Error; the public decoder fromBinary's very error), or both return the
 * same message. Then again with the input as a range of a larger buffer, between
 * bytes that would change the outcome if they were read.
 */
function assertSameOutcome(desc: DescMessage, input: Uint8Array, context: string, compiled = true): MessageShape<DescMessage> | undefined {
  const plan = compiled ? getMessageDecodePlan(desc) : undefined;
  const want = attempt(() => fromBinary(desc, input));
  // A schema that does not compile has no fast path; decode is fromBinary then.
  const fast = plan !== undefined ? attempt(() => decodeCompiled(plan, input)) : want;
  const decoded = attempt(() => getMessageDecoder(desc).decode(input));
  compareOutcomes(want, fast, decoded, input, context);
  const margin = 8;
  // 0x08 0x08 ...: field 1 as a varint 8, again and again.
  const padded = new Uint8Array(margin + input.length + margin).fill(0x08);
  padded.set(input, margin);
  const start = margin;
  const end = margin + input.length;
  const inner = padded.subarray(start, end);
  const wantInner = attempt(() => fromBinary(desc, inner));
  const fastInner = plan !== undefined ? attempt(() => decodeCompiled(plan, padded, start, end)) : wantInner;
  compareOutcomes(wantInner, fastInner, attempt(() => getMessageDecoder(desc).decode(padded, start, end)), inner, `${context} (as a range)`);
  return want.ok ? (want.value as MessageShape<DescMessage>) : undefined;
}

function compareOutcomes(want: Outcome, fast: Outcome, decoded: Outcome, input: Uint8Array, context: string): void {
  if (!want.ok) {
    assert.ok(!fast.ok, `${context}: fromBinary throws (${String(want.error)}), the fast path does not`);
    assert.ok(fast.error instanceof Error, `${context}: the fast path threw a non-Error`);
    assert.ok(!decoded.ok, `${context}: fromBinary throws, decode does not`);
    assert.ok(decoded.error instanceof Error, `${context}: decode threw a non-Error`);
    assert.equal(String(decoded.error), String(want.error), `${context}: decode's error`);
    return;
  }
  assert.ok(fast.ok, `${context}: the fast path throws ${String(!fast.ok && fast.error)}, fromBinary does not`);
  assert.ok(decoded.ok, `${context}: decode throws, fromBinary does not`);
  assertSameValue(fast.value, want.value, input, context);
  assertSameValue(decoded.value, want.value, input, context);
}

describe("getMessageDecoder", () => {
  const compiledCount = schemas.filter((desc) => getMessageDecoder(desc).compiled).length;

  test(`compiles every schema in the repo (${compiledCount} of ${schemas.length} message types) to the fast path`, () => {
    const fallbacks = schemas.filter((desc) => !getMessageDecoder(desc).compiled).map((d) => d.typeName);
    assert.deepEqual(fallbacks, []);
  });

  test("compiles the schemas gRPC traffic uses most", () => {
    const common = [PayloadSchema, OrderSchema, SimpleRequestSchema, StatusSchema, FileDescriptorProtoSchema, AnySchema, TimestampSchema, DurationSchema, StructSchema, ValueSchema, Proto3MessageSchema, Proto2MessageSchema, EditionsMessageSchema];
    for (const desc of common) assert.equal(getMessageDecoder(desc).compiled, true, desc.typeName);
  });

  test("leaves a DELIMITED wrapper or Struct to fromBinary, with the same results", () => {
    const inputs: [DescMessage, Uint8Array][] = [
      [DelimitedWrapperSchema, toBinary(DelimitedWrapperSchema, create(DelimitedWrapperSchema, { wrapper: 7, other: 1 }))],
      [DelimitedWrapperSchema, Uint8Array.of(0x0b, 0x08, 0x05, 0x0c, 0x0b, 0x0c)],
      [DelimitedStructSchema, toBinary(DelimitedStructSchema, create(DelimitedStructSchema, { struct: { a: [1, "b"] }, other: "x" }))],
      [DelimitedStructSchema, Uint8Array.of(0x0b, 0x0c, 0x0b)],
    ];
    for (const [desc, input] of inputs) {
      assert.equal(getMessageDecoder(desc).compiled, false, desc.typeName);
      assertSameOutcome(desc, input, `${desc.typeName} ${hex(input)}`, false);
    }
  });

  test("returns one cached decoder per descriptor", () => {
    assert.equal(getMessageDecoder(OrderSchema), getMessageDecoder(OrderSchema));
  });
});

describe("message factories", () => {
  test("build what create() builds, with or without generated code, for every schema", () => {
    const none = new Uint8Array(0);
    for (const desc of schemas) {
      const want = [create(desc), create(desc)] as const;
      for (const codegen of [true, false]) {
        const factory = createMessageFactory(desc, { codegen });
        const got = [factory(), factory()] as const;
        const context = `${desc.typeName}${codegen ? "" : " (cloned)"}`;
        assertSameValue(got[0], want[0], none, context);
        // Lists, maps and oneof groups are the message's own; zero values are shared
        // exactly where create() shares them (an implicit bytes field's empty array).
        const wantRecords = want as readonly { readonly [key: string]: unknown }[];
        const gotRecords = got as readonly { readonly [key: string]: unknown }[];
        for (const key of Object.keys(want[0])) {
          const shared = wantRecords[0]?.[key] === wantRecords[1]?.[key];
          assert.equal(gotRecords[0]?.[key] === gotRecords[1]?.[key], shared, `${context}.${key} shared`);
        }
      }
    }
  });
});

describe("random messages decode to what fromBinary returns", () => {
  for (const desc of schemas) {
    test(desc.typeName, () => {
      const rng = new Rng(seedOf(desc.typeName));
      const plan = getMessageDecodePlan(desc);
      const clonedPlan = getMessageDecodePlan(desc, { codegen: false });
      const exts = extensions.filter((e) => e.extendee.typeName === desc.typeName);
      let previous = new Uint8Array(0);
      for (let i = 0; i < randomMessagesPerSchema; i++) {
        const clean = i % 2 === 0; // odd ones add NaN and lone surrogates
        // Depth 2, not the encoder's 3: every message is decoded several times here.
        const message = randomMessage(desc, rng, { clean, maxDepth: 2, extensions: exts });
        const input = toBinary(desc, message);
        const context = `${desc.typeName} #${i}`;
        const want = fromBinary(desc, input);
        const got = decodeCompiled(plan, input);
        assertSameValue(got, want, input, context);
        if (i % 4 === 0) assertSameValue(decodeCompiled(clonedPlan, input), want, input, `${context} (cloned messages)`);
        // NaN makes a message unequal even to itself.
        if (clean) assert.ok(equals(desc, got as MessageShape<DescMessage>, want), `${context}: equals`);
        assertSameBytes(toBinary(desc, got as MessageShape<DescMessage>), toBinary(desc, want), `${context} re-encoded`);
        // Two messages back to back are one message with both merged into it:
        // scalars last one wins, lists appended, messages merged, maps overwritten.
        const merged = new Uint8Array(previous.length + input.length);
        merged.set(previous);
        merged.set(input, previous.length);
        assertSameValue(decodeCompiled(plan, merged), fromBinary(desc, merged), merged, `${context} merged with #${i - 1}`);
        previous = input;
      }
    });
  }
});

/** A hand-written input: each part raw bytes or a BinaryWriter step. */
function wire(build: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  build(w);
  return w.finish();
}

// Field numbers used below (see testdata/proto).
const p3 = { fInt32: 5, fString: 9, fBytes: 12, fKind: 14, rInt32: 35, rString: 39, unpackedInt32: 47, child: 50, children: 51 };
const p3Maps = { stringString: 60, int32Int64: 61, fixed32Message: 67, stringStruct: 73, stringWrapper: 74 };
const p3Oneof = { cString: 80, cInt64: 81, cMessage: 82, cStruct: 85, cWrapper: 86, sInt32: 88 };
const p3Wkt = { struct: 90, structs: 91, value: 92, wInt32: 104, wString: 107, wBytes: 108 };

describe("wire details, as fromBinary reads them", () => {
  const cases: [string, DescMessage, Uint8Array][] = [
    ["unknown fields of every wire type", Proto3MessageSchema, wire((w) => {
      w.tag(1000, WireType.Varint).uint64(2n ** 63n);
      w.tag(1001, WireType.Bit64).fixed64(12345n);
      w.tag(1002, WireType.LengthDelimited).bytes(Uint8Array.of(1, 2, 3));
      w.tag(1003, WireType.StartGroup).tag(1, WireType.Varint).int32(7).tag(2, WireType.StartGroup).tag(2, WireType.EndGroup).tag(1003, WireType.EndGroup);
      w.tag(1004, WireType.Bit32).fixed32(0xdeadbeef);
      w.tag(p3.fInt32, WireType.Varint).int32(3);
      w.tag(1000, WireType.Varint).int32(-1);
    })],
    ["an unknown varint longer than 10 bytes", Proto3MessageSchema, Uint8Array.of(0xc0, 0x3e, ...Array(14).fill(0x80), 0x01)],
    ["a packed list given packed and unpacked in one input", Proto3MessageSchema, wire((w) => {
      w.tag(p3.rInt32, WireType.LengthDelimited).fork().int32(1).int32(-2).int32(300).join();
      w.tag(p3.rInt32, WireType.Varint).int32(4);
      w.tag(p3.unpackedInt32, WireType.LengthDelimited).fork().int32(5).int32(6).join();
      w.tag(p3.unpackedInt32, WireType.Varint).int32(7);
      w.tag(p3.rInt32, WireType.LengthDelimited).fork().join();
    })],
    ["a repeated string is never packed", Proto3MessageSchema, wire((w) => w.tag(p3.rString, WireType.LengthDelimited).string("a").tag(p3.rString, WireType.LengthDelimited).string("b"))],
    ["a message field given twice is merged", Proto3MessageSchema, wire((w) => {
      w.tag(p3.child, WireType.LengthDelimited).fork().tag(p3.fInt32, WireType.Varint).int32(1).tag(p3.rInt32, WireType.Varint).int32(1).join();
      w.tag(p3.fString, WireType.LengthDelimited).string("between");
      w.tag(p3.child, WireType.LengthDelimited).fork().tag(p3.fString, WireType.LengthDelimited).string("x").tag(p3.rInt32, WireType.Varint).int32(2).tag(3000, WireType.Varint).int32(1).join();
      w.tag(p3.child, WireType.LengthDelimited).fork().tag(3001, WireType.Varint).int32(2).join();
    })],
    ["a oneof given two members: the last wins", Proto3MessageSchema, wire((w) => {
      w.tag(p3Oneof.cString, WireType.LengthDelimited).string("first");
      w.tag(p3Oneof.cInt64, WireType.Varint).int64(-5n);
    })],
    ["a oneof message member given twice is merged, and dropped by another member", Proto3MessageSchema, wire((w) => {
      w.tag(p3Oneof.cMessage, WireType.LengthDelimited).fork().tag(p3.fInt32, WireType.Varint).int32(1).join();
      w.tag(p3Oneof.cMessage, WireType.LengthDelimited).fork().tag(p3.fString, WireType.LengthDelimited).string("y").join();
      w.tag(p3Oneof.sInt32, WireType.Varint).int32(9);
      w.tag(p3Oneof.cString, WireType.LengthDelimited).string("z");
      w.tag(p3Oneof.cMessage, WireType.LengthDelimited).fork().tag(p3.fBytes, WireType.LengthDelimited).bytes(Uint8Array.of(1)).join();
    })],
    ["map entries without key, without value, empty, repeated, with unknown fields", Proto3MessageSchema, wire((w) => {
      w.tag(p3Maps.stringString, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).string("no key").join();
      w.tag(p3Maps.stringString, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("no value").join();
      w.tag(p3Maps.stringString, WireType.LengthDelimited).fork().join();
      w.tag(p3Maps.stringString, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("k").tag(2, WireType.LengthDelimited).string("v1").join();
      w.tag(p3Maps.stringString, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("__proto__").tag(2, WireType.LengthDelimited).string("p").join();
      w.tag(p3Maps.stringString, WireType.LengthDelimited).fork().tag(2, WireType.LengthDelimited).string("v2").tag(1, WireType.LengthDelimited).string("k").tag(9, WireType.Bit32).fixed32(1).join();
      w.tag(p3Maps.int32Int64, WireType.LengthDelimited).fork().tag(2, WireType.Varint).int64(5n).join();
      w.tag(p3Maps.int32Int64, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int32(-3).join();
      w.tag(p3Maps.fixed32Message, WireType.LengthDelimited).fork().join();
      w.tag(p3Maps.fixed32Message, WireType.LengthDelimited).fork().tag(1, WireType.Bit32).fixed32(7)
        .tag(2, WireType.LengthDelimited).fork().tag(p3.fInt32, WireType.Varint).int32(1).join()
        .tag(2, WireType.LengthDelimited).fork().tag(p3.fString, WireType.LengthDelimited).string("merged").join().join();
      w.tag(p3Maps.stringWrapper, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("w").join();
      w.tag(p3Maps.stringStruct, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("s").join();
    })],
    ["a negative int32 as a 10-byte varint, and an int32 with bits past 32", Proto3MessageSchema, Uint8Array.of(
      0x28, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
      0x28, 0x81, 0x80, 0x80, 0x80, 0x70,
      0x70, 0xff, 0xff, 0xff, 0xff, 0x0f,
    )],
    ["a known field with a wire type not its own is read by its declared type", Proto3MessageSchema, Uint8Array.of(
      0x2a, 0x05, // f_int32 as LEN: reads the varint 5
      0x4d, 0x03, 0x61, 0x62, 0x63, // f_string as I32: reads a length-prefixed string
    )],
    ["a message, a map and a packed list field under a varint or fixed32 tag", Proto3MessageSchema, Uint8Array.of(
      0x90, 0x03, 0x02, 0x28, 0x01, // child (50) as a varint: the varint is its length
      0xe0, 0x03, 0x04, 0x0a, 0x00, 0x12, 0x00, // m_string_string (60) as a varint
      0x9d, 0x02, 0x07, // r_int32 (35) as fixed32: one varint item
    )],
    ["wrappers given twice, empty, with unknown fields", Proto3MessageSchema, wire((w) => {
      w.tag(p3Wkt.wInt32, WireType.LengthDelimited).fork().tag(1, WireType.Varint).int32(5).join();
      w.tag(p3Wkt.wInt32, WireType.LengthDelimited).fork().tag(2, WireType.Varint).int32(6).join();
      w.tag(p3Wkt.wString, WireType.LengthDelimited).fork().join();
      w.tag(p3Wkt.wBytes, WireType.LengthDelimited).fork().join();
      w.tag(p3Oneof.cWrapper, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("a").join();
      w.tag(p3Oneof.cWrapper, WireType.LengthDelimited).fork().tag(3, WireType.Varint).int32(1).join();
    })],
    ["Struct fields merged across occurrences, entries repeated, values merged", Proto3MessageSchema, wire((w) => {
      const entry = (key: string, value: (v: BinaryWriter) => void) => {
        w.tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string(key).tag(2, WireType.LengthDelimited).fork();
        value(w);
        w.join().join();
      };
      w.tag(p3Wkt.struct, WireType.LengthDelimited).fork();
      entry("a", (v) => v.tag(2, WireType.Bit64).double(1.5));
      entry("7", (v) => v.tag(1, WireType.Varint).int32(0));
      entry("nested", (v) => v.tag(5, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("x").join().join());
      w.join();
      w.tag(p3Wkt.struct, WireType.LengthDelimited).fork();
      entry("b", (v) => v.tag(6, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork().tag(4, WireType.Varint).bool(true).join().join()
        .tag(6, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).fork().join().join());
      entry("a", (v) => v.tag(3, WireType.LengthDelimited).string("replaced"));
      entry("", (v) => v);
      entry("__proto__", (v) => v.tag(3, WireType.LengthDelimited).string("own"));
      w.join();
      w.tag(p3Wkt.structs, WireType.LengthDelimited).fork().join();
      w.tag(p3Oneof.cStruct, WireType.LengthDelimited).fork().join();
      w.tag(p3Oneof.cStruct, WireType.LengthDelimited).fork();
      entry("c", (v) => v.tag(4, WireType.Varint).bool(false));
      w.join();
      w.tag(p3Wkt.value, WireType.LengthDelimited).fork().tag(5, WireType.LengthDelimited).fork().join().join();
    })],
    ["a proto2 closed enum keeps unknown values in $unknown, after the fields read so far", Proto2MessageSchema, Uint8Array.of(
      0x08, 0x01, // opt_int32 = 1
      0x80, 0x01, 0x07, // opt_color = 7, not declared
      0x10, 0x00, // opt_string = ""
      0x80, 0x01, 0x02, // opt_color = COLOR_GREEN
      0x80, 0x01, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, // COLOR_BLUE (-3)
      0xd8, 0x01, 0x09, // unpacked_color = 9: lists accept any value
      0x80, 0x01, 0x05, // opt_color = 5
    )],
    ["a closed enum's unknown value next to unknown fields", Proto2MessageSchema, Uint8Array.of(0x80, 0x01, 0x07, 0xf8, 0x7f, 0x01, 0x80, 0x01, 0x09)],
    ["editions: closed enums, delimited messages and groups", EditionsMessageSchema, Uint8Array.of(
      0x48, 0x03, // closed = 3, not declared
      0x2b, 0x08, 0x01, 0x2c, // delimited { explicit_int32: 1 }
      0x2b, 0x10, 0x02, 0x2c, // delimited again: merged
      0x33, 0x34, 0x33, 0x34, // two delimited_list items
      0x83, 0x01, 0x2b, 0x2c, 0x84, 0x01, // choice_delimited { delimited {} }
      0x70, 0x05, // closed_list = 5
    )],
    ["proto2 groups, the oneof group, and strings without UTF-8 validation", Proto2MessageSchema, Uint8Array.of(
      0x93, 0x01, 0x98, 0x01, 0x01, 0x94, 0x01, // OptGroup { a: 1 }
      0x93, 0x01, 0xa2, 0x01, 0x01, 0xff, 0x94, 0x01, // OptGroup again { b: "\xff" }
      0xab, 0x01, 0xb0, 0x01, 0x05, 0xac, 0x01, // RepGroup
      0x1b, 0x01, 0x1c, // a group-encoded field that is declared a scalar: read as the scalar
      0x12, 0x03, 0xe2, 0x82, 0x61, // opt_string = invalid UTF-8
    )],
    ["strings that are not valid UTF-8, in a field that does not validate", Proto2MessageSchema, Uint8Array.of(0x12, 0x04, 0xed, 0xa0, 0x80, 0x41)],
    ["a string field that validates UTF-8 given invalid UTF-8", Proto3MessageSchema, Uint8Array.of(0x4a, 0x02, 0xc3, 0x28)],
    ["a validating string field given an overlong encoding", Proto3MessageSchema, Uint8Array.of(0x4a, 0x02, 0xc0, 0xaf)],
    ["a byte-order mark at the start of a string is kept", Proto3MessageSchema, Uint8Array.of(0x4a, 0x04, 0xef, 0xbb, 0xbf, 0x41)],
    ["field number 0", Proto3MessageSchema, Uint8Array.of(0x00, 0x01)],
    ["wire type 6", Proto3MessageSchema, Uint8Array.of(0x0e, 0x01)],
    ["wire type 7", Proto3MessageSchema, Uint8Array.of(0x0f, 0x01)],
    ["a tag past 32 bits", Proto3MessageSchema, Uint8Array.of(0xf8, 0xff, 0xff, 0xff, 0x1f, 0x01)],
    ["a tag of 6 bytes", Proto3MessageSchema, Uint8Array.of(0x88, 0x80, 0x80, 0x80, 0x80, 0x00, 0x01)],
    ["the highest field number", Proto3MessageSchema, wire((w) => w.tag(536870911, WireType.LengthDelimited).string("high"))],
    ["an end-group tag outside a group", Proto3MessageSchema, Uint8Array.of(0x0c)],
    ["an end-group tag of a known field outside a group", Proto3MessageSchema, Uint8Array.of(0x2c, 0x05)],
    ["an unknown group ended by another field's end tag", Proto3MessageSchema, Uint8Array.of(0xdb, 0x3e, 0x08, 0x01, 0xe4, 0x3e)],
    ["an unknown group never ended", Proto3MessageSchema, Uint8Array.of(0xdb, 0x3e, 0x08, 0x01)],
    ["a group ended by another field's end tag", Proto2MessageSchema, Uint8Array.of(0x93, 0x01, 0x98, 0x01, 0x01, 0xac, 0x01)],
    ["a group never ended", Proto2MessageSchema, Uint8Array.of(0x93, 0x01, 0x98, 0x01, 0x01)],
    ["a varint of 11 bytes", Proto3MessageSchema, Uint8Array.of(0x28, ...Array(10).fill(0xff), 0x01)],
    ["a 64-bit varint of 11 bytes", Proto3MessageSchema, Uint8Array.of(0x18, ...Array(10).fill(0xff), 0x01)],
    ["a length past the end", Proto3MessageSchema, Uint8Array.of(0x4a, 0x05, 0x61)],
    ["a nested message longer than the input", Proto3MessageSchema, Uint8Array.of(0x92, 0x03, 0x09, 0x28, 0x01)],
    ["a nested message shorter than its last field", Proto3MessageSchema, Uint8Array.of(0x92, 0x03, 0x01, 0x4a, 0x02, 0x61, 0x62, 0x28, 0x07)],
    ["a packed run whose last item crosses its end", Proto3MessageSchema, Uint8Array.of(0x9a, 0x02, 0x01, 0xff, 0x01, 0x28, 0x03)],
    ["a fixed64 cut short", Proto3MessageSchema, Uint8Array.of(0x31, 0x01, 0x02, 0x03)],
    ["a bool as a long varint", Proto3MessageSchema, Uint8Array.of(0x40, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01)],
    ["an empty input", Proto3MessageSchema, new Uint8Array(0)],
    ["required fields missing: fromBinary does not check them", Proto2RequiredSchema, Uint8Array.of(0x20, 0x01)],
  ];
  for (const [name, desc, input] of cases) {
    test(`${name}: same message or same error as fromBinary`, () => {
      assertSameOutcome(desc, input, name);
    });
  }

  test("unknown fields keep their bytes, without the tag, as views of the input", () => {
    const input = cases[0]?.[2] ?? assert.fail("no case");
    const decoded = getMessageDecoder(Proto3MessageSchema).decode(input);
    const unknown = decoded.$unknown ?? assert.fail("no unknown fields");
    assert.deepEqual(unknown.map((u) => [u.no, u.wireType, u.data.length]), [
      [1000, WireType.Varint, 10],
      [1001, WireType.Bit64, 8],
      [1002, WireType.LengthDelimited, 4],
      [1003, WireType.StartGroup, 6],
      [1004, WireType.Bit32, 4],
      [1000, WireType.Varint, 10],
    ]);
    assert.ok(unknown.every((u) => u.data.buffer === input.buffer));
    const want = fromBinary(Proto3MessageSchema, input);
    assertSameBytes(toBinary(Proto3MessageSchema, decoded), toBinary(Proto3MessageSchema, want), "re-encoded");
  });

  test("bytes fields are views of the input, not copies", () => {
    const input = toBinary(PayloadSchema, create(PayloadSchema, { body: Uint8Array.of(1, 2, 3) }));
    const decoded = getMessageDecoder(PayloadSchema).decode(input);
    assert.equal(decoded.body.buffer, input.buffer);
    input[2] = 9;
    assert.equal(decoded.body[0], 9);
  });

  test("an input that is a view into a larger buffer, or a Node Buffer", () => {
    const message = randomMessage(Proto3MessageSchema, new Rng(7), { clean: true, maxDepth: 2 });
    const bytes = toBinary(Proto3MessageSchema, message);
    const larger = new Uint8Array(bytes.length + 20).fill(0xff);
    larger.set(bytes, 13);
    assertSameOutcome(Proto3MessageSchema, larger.subarray(13, 13 + bytes.length), "view");
    assertSameOutcome(Proto3MessageSchema, Buffer.from(bytes), "Buffer");
  });

  test("proto2 messages get create's prototype, with defaults for what was not read", () => {
    const decoded = getMessageDecoder(Proto2MessageSchema).decode(Uint8Array.of(0x08, 0x01));
    assert.equal(Object.getPrototypeOf(decoded), Object.getPrototypeOf(create(Proto2MessageSchema)));
    assert.equal(decoded.optInt32, 1);
    assert.equal(decoded.optString, "héllo");
    assert.ok(!Object.hasOwn(decoded, "optString"));
  });

  test("extensions stay in $unknown", () => {
    const message = create(Proto2MessageSchema, { optInt32: 2 });
    setExtension(message, ext_int32, -5);
    setExtension(message, ext_message, create(Proto2MessageSchema, { optBool: false }));
    assertSameOutcome(Proto2MessageSchema, toBinary(Proto2MessageSchema, message), "extensions");
  });

  test("strings of every length around the ASCII fast path, ASCII or not", () => {
    for (const piece of ["a", "é", "€", "😀", "\u0000", "\u007f", "\ufeff"]) {
      for (let n = 0; n <= 70; n++) {
        const text = "x".repeat(n) + piece;
        const input = toBinary(Proto3MessageSchema, create(Proto3MessageSchema, { fString: text, rString: [piece + "y".repeat(n)] }));
        assertSameOutcome(Proto3MessageSchema, input, JSON.stringify(text));
      }
    }
  });
});

describe("nesting, as deep as fromBinary allows", () => {
  /** Proto3Message with `depth` levels of `child`, the innermost with an int32. */
  function nested(depth: number): Uint8Array {
    let inner: Uint8Array = Uint8Array.of(0x28, 0x01);
    for (let i = 1; i < depth; i++) inner = wire((w) => w.tag(p3.child, WireType.LengthDelimited).bytes(inner));
    return inner;
  }

  /** A group nested `depth` times, as an unknown field of Proto3Message. */
  function nestedGroups(depth: number): Uint8Array {
    return wire((w) => {
      for (let i = 0; i < depth; i++) w.tag(2000, WireType.StartGroup);
      for (let i = 0; i < depth; i++) w.tag(2000, WireType.EndGroup);
    });
  }

  for (const depth of [99, 100, 101, 150]) {
    test(`messages nested ${depth} deep`, () => {
      assertSameOutcome(Proto3MessageSchema, nested(depth), `${depth} messages`);
    });
    test(`unknown groups nested ${depth} deep`, () => {
      assertSameOutcome(Proto3MessageSchema, nestedGroups(depth), `${depth} groups`);
    });
  }

  test("Struct values nested to the limit", () => {
    for (const depth of [30, 32, 33, 34, 35, 50]) {
      let list = create(ListValueSchema);
      for (let i = 0; i < depth; i++) list = create(ListValueSchema, { values: [{ kind: { case: "listValue", value: list } }] });
      const input = toBinary(ListValueSchema, list);
      assertSameOutcome(ListValueSchema, input, `ListValue ${depth}`);
      const struct = wire((w) => w.tag(p3Wkt.struct, WireType.LengthDelimited).fork()
        .tag(1, WireType.LengthDelimited).fork().tag(1, WireType.LengthDelimited).string("k").tag(2, WireType.LengthDelimited).fork()
        .tag(6, WireType.LengthDelimited).bytes(input).join().join().join());
      assertSameOutcome(Proto3MessageSchema, struct, `Struct ${depth}`);
    }
  });
});

describe("malformed input: same outcome as fromBinary", () => {
  /** Schemas to break, and how many messages of at most maxBytes to cut at every byte
   *  (each costs a decode per byte). */
  const samples: { desc: DescMessage; count: number; maxDepth: number; maxBytes: number }[] = [
    { desc: OrderSchema, count: 4, maxDepth: 2, maxBytes: 600 },
    { desc: Proto3MessageSchema, count: 3, maxDepth: 1, maxBytes: 2500 },
    { desc: Proto2MessageSchema, count: 6, maxDepth: 2, maxBytes: 800 },
    { desc: EditionsMessageSchema, count: 6, maxDepth: 2, maxBytes: 800 },
    { desc: FileDescriptorProtoSchema, count: 2, maxDepth: 2, maxBytes: 1500 },
    { desc: StructSchema, count: 4, maxDepth: 2, maxBytes: 800 },
  ];

  test("every truncation of encoded messages", () => {
    for (const { desc, count, maxDepth, maxBytes } of samples) {
      const rng = new Rng(seedOf(`truncate ${desc.typeName}`));
      let found = 0;
      for (let attempt = 0; attempt < 500 && found < count; attempt++) {
        const input = toBinary(desc, randomMessage(desc, rng, { clean: true, maxDepth }));
        if (input.length > maxBytes || (input.length < 40 && attempt < 400)) continue;
        found++;
        for (let end = 0; end < input.length; end++) {
          assertSameOutcome(desc, input.subarray(0, end), `${desc.typeName} cut at ${end} of ${hex(input)}`);
        }
      }
      assert.equal(found, count, `${desc.typeName}: messages to cut`);
    }
  });

  test("1000 random byte strings", () => {
    const rng = new Rng(seedOf("garbage"));
    for (let i = 0; i < 1000; i++) {
      const input = new Uint8Array(rng.int(64));
      for (let j = 0; j < input.length; j++) input[j] = rng.chance(0.3) ? rng.pick([0x08, 0x0a, 0x12, 0x80, 0xff, 0x00, 0x0b, 0x0c]) : rng.int(256);
      const { desc } = samples[i % samples.length] ?? assert.fail("no sample");
      assertSameOutcome(desc, input, `garbage #${i} ${hex(input)}`);
    }
  });

  test("encoded messages with random bytes changed", () => {
    for (const { desc, maxDepth } of samples) {
      const rng = new Rng(seedOf(`mutate ${desc.typeName}`));
      for (let i = 0; i < 300; i++) {
        const input = toBinary(desc, randomMessage(desc, rng, { clean: true, maxDepth }));
        if (input.length === 0) continue;
        for (let k = 1 + rng.int(3); k > 0; k--) input[rng.int(input.length)] = rng.chance(0.5) ? rng.int(256) : rng.pick([0x00, 0x80, 0xff, 0x0c, 0x0b, 0x7f]);
        assertSameOutcome(desc, input, `${desc.typeName} mutated #${i} ${hex(input)}`);
      }
    }
  });
});
