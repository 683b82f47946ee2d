import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, type DescMessage, equals, fromBinary, type Message, type MessageShape, setExtension, toBinary } from "@bufbuild/protobuf";
import { AnySchema, anyPack, FileDescriptorProtoSchema, StructSchema, ValueSchema } from "@bufbuild/protobuf/wkt";
import { OrderSchema, PayloadSchema } from "../../../bench/gen/bench_pb.js";
import { SimpleRequestSchema } from "../../../interop/gen/grpc/testing/messages_pb.js";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../../gen/google/rpc/status_pb.js";
import type { FrameTarget } from "../frame.js";
import { getMessageCodec } from "./compile.js";
import { NotAscii } from "./encode-state.js";
import { encodeCompiled, getMessageEncoder } from "./encoder.js";
import { EditionsMessageSchema, EditionsRequiredSchema } from "./testdata/gen/grpcts/encoder/test/editions_pb.js";
import {
  ext_int32,
  ext_message,
  ext_packed,
  ext_string,
  Proto2MessageSchema,
  Proto2RequiredSchema,
} from "./testdata/gen/grpcts/encoder/test/proto2_pb.js";
import { Kind, Proto3MessageSchema } from "./testdata/gen/grpcts/encoder/test/proto3_pb.js";
import type { MessageCodec } from "./plan.js";
import { assertSameBytes, corpusExtensions, corpusFiles, corpusSchemas, hex, seedOf } from "./testdata/corpus.js";
import { randomMessage, Rng } from "./testdata/random-message.js";

const schemas = corpusSchemas;
const extensions = corpusExtensions;

const randomMessagesPerSchema = 1000;

function assertFramed(framed: Uint8Array, payload: Uint8Array, context: string): void {
  const n = payload.length;
  assertSameBytes(framed.subarray(0, 5), Uint8Array.of(0, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff), `${context} prefix`);
  assertSameBytes(framed.subarray(5), payload, `${context} payload`);
}

/** What toBinary does with a message: its bytes, or the message of the error it throws. */
function outcome(run: () => Uint8Array): string {
  try {
    return `bytes ${hex(run())}`;
  } catch (err) {
    return `throws ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** The fast path with strings assumed ASCII, or undefined if one was not. */
function encodeAssumingAscii(codec: MessageCodec, message: Message): Uint8Array | undefined {
  try {
    return encodeCompiled(codec, message, 0, "owned", true);
  } catch (err) {
    if (err instanceof NotAscii) return undefined;
    throw err;
  }
}

/** A FrameTarget lending one buffer until it is full (or frames over `limit` bytes), counting what it lent and took back. */
class TestTarget implements FrameTarget {
  // Not zeroed, as a transport's memory is not: a byte left unwritten shows.
  readonly frameBuffer = new Uint8Array(256 * 1024).fill(0xaa);
  used = 0;
  reservations = 0;
  releases = 0;
  private lastAt = 0;

  constructor(private readonly limit = Infinity) {}

  reserveFrame(bytes: number): number {
    if (bytes > this.limit || this.used + bytes > this.frameBuffer.length) return -1;
    this.lastAt = this.used;
    this.used += bytes;
    this.reservations++;
    return this.lastAt;
  }

  releaseFrame(): void {
    this.used = this.lastAt;
    this.releases++;
  }
}

describe("getMessageEncoder", () => {
  test(`compiles every schema in the repo (${schemas.length} message types) to the fast path`, () => {
    const fallbacks = schemas.filter((desc) => !getMessageEncoder(desc).compiled).map((d) => d.typeName);
    assert.deepEqual(fallbacks, []);
  });

  test("returns one cached encoder per descriptor and output mode", () => {
    assert.equal(getMessageEncoder(OrderSchema), getMessageEncoder(OrderSchema));
    assert.equal(getMessageEncoder(OrderSchema, { pooledOutput: false }), getMessageEncoder(OrderSchema, { pooledOutput: false }));
    assert.notEqual(getMessageEncoder(OrderSchema), getMessageEncoder(OrderSchema, { pooledOutput: false }));
  });
});

describe("random messages encode to the bytes toBinary writes", () => {
  for (const desc of schemas) {
    test(desc.typeName, () => {
      const rng = new Rng(seedOf(desc.typeName));
      const codec = getMessageCodec(desc);
      const encoder = getMessageEncoder(desc);
      const ownEncoder = getMessageEncoder(desc, { pooledOutput: false });
      const exts = extensions.filter((e) => e.extendee.typeName === desc.typeName);
      for (let i = 0; i < randomMessagesPerSchema; i++) {
        const clean = i % 2 === 0; // odd ones add NaN and lone surrogates
        const message = randomMessage(desc, rng, { clean, maxDepth: 3, extensions: exts });
        const want = toBinary(desc, message);
        const context = `${desc.typeName} #${i}`;
        // The fast path alone, without the fallback to toBinary, with strings measured
        // exactly, and assumed ASCII when they are.
        assertSameBytes(encodeCompiled(codec, message, 0, "pooled", false), want, context);
        const ascii = encodeAssumingAscii(codec, message);
        if (ascii !== undefined) assertSameBytes(ascii, want, `${context} assuming ASCII`);
        assertSameBytes(ownEncoder.encode(message), want, context);
        assertFramed(encoder.encodeFramed(message), want, context);
        if (clean) assert.ok(equals(desc, fromBinary(desc, want), message), `${context} round trip`);
      }
    });
  }
});

describe("encodeFramed", () => {
  const cases = [0, 1, 127, 128, 300, 70_000, 4 * 1024 * 1024];
  for (const bodyBytes of cases) {
    test(`prefixes a ${bodyBytes}-byte body with flag 0 and the big-endian payload length`, () => {
      const message = create(PayloadSchema, { body: new Uint8Array(bodyBytes).fill(0xab) });
      const want = toBinary(PayloadSchema, message);
      assertFramed(getMessageEncoder(PayloadSchema).encodeFramed(message), want, "pooled");
      assertFramed(getMessageEncoder(PayloadSchema, { pooledOutput: false }).encodeFramed(message), want, "owned");
    });
  }
});

describe("encodeFramedTo", () => {
  test("writes encodeFramed's bytes into the target's memory, one reservation per message", () => {
    for (const desc of [OrderSchema, Proto3MessageSchema, Proto2MessageSchema, StructSchema]) {
      const rng = new Rng(seedOf(`${desc.typeName} in place`));
      const encoder = getMessageEncoder(desc);
      for (let i = 0; i < 200; i++) {
        const target = new TestTarget();
        // Odd messages add lone surrogates; the test below takes the not-ASCII retry apart.
        const message = randomMessage(desc, rng, { clean: i % 2 === 0, maxDepth: 3 });
        const context = `${desc.typeName} #${i}`;
        assert.equal(encoder.encodeFramedTo(message, target), undefined, context);
        assertFramed(target.frameBuffer.subarray(0, target.used), toBinary(desc, message), context);
        assert.equal(target.reservations - target.releases, 1, context);
      }
    }
  });

  test("a string found not to be ASCII while writing gives its room back, then the frame is written again", () => {
    const encoder = getMessageEncoder(OrderSchema);
    const target = new TestTarget();
    // Plain messages first, so that the encoder assumes ASCII again (it measures exactly for a while after a miss).
    for (let i = 0; i < 70; i++) encoder.encodeFramedTo(create(OrderSchema, { id: "plain" }), target);
    const before = { used: target.used, releases: target.releases };
    const message = create(OrderSchema, { id: "é", currency: "EUR" });
    assert.equal(encoder.encodeFramedTo(message, target), undefined);
    assert.equal(target.releases - before.releases, 1);
    assertFramed(target.frameBuffer.subarray(before.used, target.used), toBinary(OrderSchema, message), "after the retry");
  });

  test("without room in the target, the frame comes back as encodeFramedTransient returns it", () => {
    const encoder = getMessageEncoder(PayloadSchema);
    for (const bodyBytes of [0, 100, 5000]) {
      const target = new TestTarget(0);
      const message = create(PayloadSchema, { body: new Uint8Array(bodyBytes).fill(7) });
      const framed = encoder.encodeFramedTo(message, target);
      assert.ok(framed !== undefined);
      assertFramed(framed, toBinary(PayloadSchema, message), `${bodyBytes}-byte body`);
      assert.equal(target.used, 0);
    }
  });
});

describe("output buffers", () => {
  test("pooled outputs never overlap and keep their bytes", () => {
    const encoder = getMessageEncoder(PayloadSchema);
    const outputs = Array.from({ length: 300 }, (_, i) => {
      const message = create(PayloadSchema, { body: new Uint8Array(i * 7).fill(i & 0xff) });
      return { want: toBinary(PayloadSchema, message), got: encoder.encode(message) };
    });
    for (const [i, { want, got }] of outputs.entries()) assertSameBytes(got, want, `output ${i}`);
  });

  test("pooledOutput: false gives every output its own ArrayBuffer", () => {
    const got = getMessageEncoder(OrderSchema, { pooledOutput: false }).encode(create(OrderSchema, { id: "x" }));
    assert.equal(got.byteOffset, 0);
    assert.equal(got.buffer.byteLength, got.length);
  });

  test("a transferred pool buffer is replaced, not written to", () => {
    const encoder = getMessageEncoder(PayloadSchema);
    const first = encoder.encode(create(PayloadSchema, { body: new Uint8Array(10) }));
    const pool = first.buffer;
    assert.ok(pool instanceof ArrayBuffer);
    structuredClone(pool, { transfer: [pool] });
    assert.equal(first.length, 0); // detached
    const message = create(PayloadSchema, { body: new Uint8Array(10).fill(1) });
    assertSameBytes(encoder.encode(message), toBinary(PayloadSchema, message), "after transfer");
  });
});

describe("presence, as toBinary decides it", () => {
  test("proto2 optional fields with defaults are written only when set, even to the default", () => {
    const unset = create(Proto2MessageSchema);
    assert.equal(unset.optInt32, 42); // from the prototype
    assertSameBytes(getMessageEncoder(Proto2MessageSchema).encode(unset), new Uint8Array(0), "unset");
    const set = create(Proto2MessageSchema, { optInt32: 42, optString: "héllo", jsUint64: "41" });
    assertSameBytes(getMessageEncoder(Proto2MessageSchema).encode(set), toBinary(Proto2MessageSchema, set), "set to defaults");
  });

  test("proto3 implicit fields skip zero values but write -0 for doubles", () => {
    const message = create(Proto3MessageSchema, { fDouble: -0, fFloat: 0, fInt32: 0, fString: "", fKind: Kind.UNSPECIFIED });
    const got = getMessageEncoder(Proto3MessageSchema).encode(message);
    assertSameBytes(got, Uint8Array.of(0x09, 0, 0, 0, 0, 0, 0, 0, 0x80), "-0 double");
  });

  test("a wrapper field set to its zero value is an empty message", () => {
    const message = create(Proto3MessageSchema, { wInt32: 0, wString: "" });
    const want = toBinary(Proto3MessageSchema, message);
    assertSameBytes(getMessageEncoder(Proto3MessageSchema).encode(message), want, "zero wrappers");
    assert.equal(hex(want), "c20600" + "da0600"); // fields 104 and 107, each of length 0
  });

  test("editions: IMPLICIT skips zero, EXPLICIT writes zero, DELIMITED writes groups", () => {
    const message = create(EditionsMessageSchema, {
      explicitInt32: 0,
      implicitInt32: 0,
      delimited: { implicitString: "a" },
      expanded: [1, 2],
      packed: [1, 2],
    });
    const got = getMessageEncoder(EditionsMessageSchema).encode(message);
    assertSameBytes(got, toBinary(EditionsMessageSchema, message), "editions");
    assert.equal(hex(got), "0800" + "2b" + "1a0161" + "2c" + "3801" + "3802" + "42020102");
  });
});

describe("values and messages toBinary rejects or coerces go through toBinary", () => {
  const cases: [string, DescMessage, () => Message][] = [
    ["proto2 required field not set", Proto2RequiredSchema, () => create(Proto2RequiredSchema, { reqInt32: 1, reqString: "a" })],
    ["editions LEGACY_REQUIRED message not set", EditionsRequiredSchema, () => create(EditionsRequiredSchema, { req: 1 })],
    ["int32 not an integer", OrderSchema, () => Object.assign(create(OrderSchema), { itemCount: 1.5 })],
    ["uint32 negative", OrderSchema, () => Object.assign(create(OrderSchema), { itemCount: -1 })],
    ["int32 given as a numeric string", Proto3MessageSchema, () => Object.assign(create(Proto3MessageSchema), { fInt32: "12" })],
    ["int64 out of range", OrderSchema, () => Object.assign(create(OrderSchema), { createdAtMs: 2n ** 63n })],
    ["int64 given as a number", OrderSchema, () => Object.assign(create(OrderSchema), { createdAtMs: 5 })],
    ["uint64 string with spaces", Proto3MessageSchema, () => Object.assign(create(Proto3MessageSchema), { jsUint64: " 12 " })],
    ["float overflow", OrderSchema, () => Object.assign(create(OrderSchema), { discount: 1e300 })],
    ["string field holding a number", OrderSchema, () => Object.assign(create(OrderSchema), { id: 12 })],
    ["bytes field holding an array", OrderSchema, () => Object.assign(create(OrderSchema), { signature: [1, 2] })],
    ["bool field holding a number", OrderSchema, () => Object.assign(create(OrderSchema), { gift: 1 })],
    ["message of another type", OrderSchema, () => create(PayloadSchema) as unknown as Message],
    ["nested message of another type", OrderSchema, () => Object.assign(create(OrderSchema), { shippingAddress: create(PayloadSchema) })],
    ["oneof property missing", ValueSchema, () => ({ $typeName: "google.protobuf.Value" })],
    ["int32 map key that is not a number", Proto3MessageSchema, () => Object.assign(create(Proto3MessageSchema), { mInt32Int64: { x: 1n } })],
    ["int32 map key with a hex prefix", Proto3MessageSchema, () => Object.assign(create(Proto3MessageSchema), { mInt32Int64: { "0x10": 1n } })],
    ["bool map key that is not true or false", Proto3MessageSchema, () => Object.assign(create(Proto3MessageSchema), { mBoolSfixed64: { yes: 1n } })],
    ["uint64 map key that is negative", Proto3MessageSchema, () => Object.assign(create(Proto3MessageSchema), { mUint64Double: { "-1": 1 } })],
    ["undefined list item", OrderSchema, () => Object.assign(create(OrderSchema), { items: [undefined] })],
    ["unknown field without data", OrderSchema, () => Object.assign(create(OrderSchema), { $unknown: [{ no: 99, wireType: 0 }] })],
  ];
  for (const [name, desc, make] of cases) {
    test(`${name}: same bytes or same error as toBinary`, () => {
      const want = outcome(() => toBinary(desc, make()));
      assert.equal(outcome(() => getMessageEncoder(desc).encode(make())), want);
      const framed = outcome(() => getMessageEncoder(desc).encodeFramed(make()).subarray(5));
      assert.equal(framed, want);
      // In a target (what the fast path coerces) or returned (toBinary's): the same bytes.
      const target = new TestTarget();
      const framedTo = outcome(() => (getMessageEncoder(desc).encodeFramedTo(make(), target) ?? target.frameBuffer.subarray(0, target.used)).subarray(5));
      assert.equal(framedTo, want);
      // A throw keeps none of the target's memory.
      if (want.startsWith("throws")) assert.equal(target.used, 0);
    });
  }
});

describe("well-known types as protobuf-es holds them", () => {
  test("Struct fields held as JSON, non-JSON values included, match toBinary", () => {
    const json = { a: 1, b: "x", c: null, d: [true, { e: [] }, -0], f: {}, g: undefined, h: 5n, "": "empty key", 7: "int key" };
    const message = Object.assign(create(Proto3MessageSchema), {
      struct: json,
      structs: [json, {}],
      mStringStruct: { k: json },
      choice: { case: "cStruct", value: json },
    });
    const got = getMessageEncoder(Proto3MessageSchema).encode(message as MessageShape<typeof Proto3MessageSchema>);
    assertSameBytes(got, toBinary(Proto3MessageSchema, message), "struct");
  });

  test("Struct and Value messages themselves use the message representation", () => {
    const struct = create(StructSchema, { fields: { a: { kind: { case: "numberValue", value: 0 } } } });
    assertSameBytes(getMessageEncoder(StructSchema).encode(struct), toBinary(StructSchema, struct), "Struct");
  });

  test("google.rpc.Status with Any details", () => {
    const detail = create(BadRequestSchema, { fieldViolations: [{ field: "name", description: "must not be empty" }] });
    const status = create(StatusSchema, { code: 3, message: "invalid ✗", details: [anyPack(BadRequestSchema, detail)] });
    assertSameBytes(getMessageEncoder(StatusSchema).encode(status), toBinary(StatusSchema, status), "Status");
  });

  test("a FileDescriptorProto of a real generated file (proto2, defaults, options)", () => {
    for (const file of corpusFiles) {
      const proto = file.proto;
      assertSameBytes(getMessageEncoder(FileDescriptorProtoSchema).encode(proto), toBinary(FileDescriptorProtoSchema, proto), file.name);
      const decoded = fromBinary(FileDescriptorProtoSchema, toBinary(FileDescriptorProtoSchema, proto));
      assertSameBytes(getMessageEncoder(FileDescriptorProtoSchema).encode(decoded), toBinary(FileDescriptorProtoSchema, decoded), `${file.name} decoded`);
    }
  });

  test("Any packing an interop SimpleRequest with BoolValue wrappers", () => {
    const request = create(SimpleRequestSchema, { responseSize: 10, fillUsername: true, responseCompressed: { value: false } });
    const any = anyPack(SimpleRequestSchema, request);
    assertSameBytes(getMessageEncoder(AnySchema).encode(any), toBinary(AnySchema, any), "Any");
    assertSameBytes(getMessageEncoder(SimpleRequestSchema).encode(request), toBinary(SimpleRequestSchema, request), "SimpleRequest");
  });
});

describe("wire details", () => {
  test("extensions (held in $unknown) are written after the known fields", () => {
    const message = create(Proto2MessageSchema, { optInt32: 1 });
    setExtension(message, ext_int32, -5);
    setExtension(message, ext_string, "ext");
    setExtension(message, ext_packed, [1, 2, 3]);
    setExtension(message, ext_message, create(Proto2MessageSchema, { optBool: false }));
    assertSameBytes(getMessageEncoder(Proto2MessageSchema).encode(message), toBinary(Proto2MessageSchema, message), "extensions");
  });

  test("a double's NaN payload survives re-encoding as it does in toBinary", () => {
    const view = new DataView(new ArrayBuffer(8));
    view.setUint32(0, 0x00000001, true);
    view.setUint32(4, 0x7ff80000, true);
    const message = create(Proto3MessageSchema, { fDouble: view.getFloat64(0, true), rFloat: [NaN] });
    assertSameBytes(getMessageEncoder(Proto3MessageSchema).encode(message), toBinary(Proto3MessageSchema, message), "NaN");
  });

  test("strings: ASCII, multi-byte and lone surrogates at every length threshold", () => {
    const pieces = ["a", "é", "€", "😀", "\ud800", "\udc00", "\ud800\ud800\udc00"];
    for (const piece of pieces) {
      for (const repeat of [1, 5, 11, 12, 13, 39, 40, 41, 64, 200]) {
        const text = "x".repeat(repeat) + piece.repeat(repeat % 7 + 1);
        const message = create(Proto3MessageSchema, { fString: text, rString: [text, piece] });
        assertSameBytes(getMessageEncoder(Proto3MessageSchema).encode(message), toBinary(Proto3MessageSchema, message), JSON.stringify(text));
      }
    }
  });

  test("a string that is not ASCII makes the encoder measure strings exactly, then try again later", () => {
    const encoder = getMessageEncoder(OrderSchema, { pooledOutput: false });
    const texts = ["plain", "é", "x".repeat(50) + "€", "also plain", "😀".repeat(30), ...Array(70).fill("ascii")];
    for (const [i, text] of texts.entries()) {
      const message = create(OrderSchema, { id: text, items: [{ title: text }], attributes: { [text]: text } });
      assertSameBytes(encoder.encode(message), toBinary(OrderSchema, message), `message ${i}`);
    }
  });

  test("a message with more length-prefixed parts than the first length table holds", () => {
    const items = Array.from({ length: 500 }, (_, i) => ({ sku: `sku-${i}`, title: "é".repeat(i % 50) }));
    const message = create(OrderSchema, { items, tags: items.map((item) => item.sku) });
    assertSameBytes(getMessageEncoder(OrderSchema).encode(message), toBinary(OrderSchema, message), "500 items");
  });

  test("a getter that encodes while a message is being encoded gets its own state", () => {
    const inner = create(OrderSchema, { id: "inner", tags: ["a", "b"] });
    const outer = create(OrderSchema, { id: "outer", currency: "EUR" });
    let reentered = 0;
    Object.defineProperty(outer, "customerId", {
      enumerable: true,
      get() {
        reentered++;
        return `c${getMessageEncoder(OrderSchema).encode(inner).length}`;
      },
    });
    assertSameBytes(getMessageEncoder(OrderSchema).encode(outer), toBinary(OrderSchema, outer), "outer");
    assert.ok(reentered > 0);
  });
});
