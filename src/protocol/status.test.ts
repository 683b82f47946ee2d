import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack, anyUnpack, DurationSchema } from "@bufbuild/protobuf/wkt";
import { BadRequestSchema, ErrorInfoSchema, RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { Metadata } from "./metadata.js";
import { Code, decodeStatusDetails, encodeStatusDetails, GrpcError, parseCode } from "./status.js";

describe("Code", () => {
  test("has the wire numbers of statuscodes.md", () => {
    const names = [
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
      "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];
    names.forEach((name, number) => assert.equal((Code as unknown as Record<string, number>)[name], number, name));
  });
});

describe("parseCode", () => {
  const cases: [input: unknown, want: Code | undefined][] = [
    [0, Code.OK], [14, Code.UNAVAILABLE], [16, Code.UNAUTHENTICATED],
    ["UNAVAILABLE", Code.UNAVAILABLE], ["unavailable", Code.UNAVAILABLE], ["Deadline_Exceeded", Code.DEADLINE_EXCEEDED],
    ["ok", Code.OK], ["OK", Code.OK],
    [-1, undefined], [17, undefined], [1.5, undefined], [Number.NaN, undefined], [Number.POSITIVE_INFINITY, undefined],
    ["", undefined], ["NOPE", undefined], [" OK", undefined], ["DEADLINE-EXCEEDED", undefined],
    // A number in a string is not a name; the enum's reverse mapping must not leak through.
    ["0", undefined], ["14", undefined],
    ["toString", undefined], ["constructor", undefined], ["__proto__", undefined],
    [null, undefined], [undefined, undefined], [true, undefined], [{}, undefined], [[14], undefined],
  ];
  for (const [input, want] of cases) {
    const label = typeof input === "number" ? String(input) : JSON.stringify(input) ?? String(input);
    test(`parseCode(${label}) is ${want === undefined ? "undefined" : Code[want]}`, () => {
      assert.equal(parseCode(input), want);
    });
  }
});

describe("GrpcError", () => {
  test("carries code, raw message, code name in message, and empty metadata and details by default", () => {
    const err = new GrpcError(Code.NOT_FOUND, "no such feature");
    assert.ok(err instanceof Error);
    assert.equal(err.name, "GrpcError");
    assert.equal(err.code, Code.NOT_FOUND);
    assert.equal(err.rawMessage, "no such feature");
    assert.equal(err.message, "NOT_FOUND: no such feature");
    assert.ok(err.metadata instanceof Metadata);
    assert.equal(err.metadata.size, 0);
    assert.deepEqual(err.details, []);
    assert.equal(err.cause, undefined);
    assert.equal("cause" in err, false);
  });

  test("keeps the metadata and cause it is given", () => {
    const metadata = new Metadata().set("x-trailer", "t");
    const cause = new Error("socket closed");
    const err = new GrpcError(Code.UNAVAILABLE, "", { metadata, cause });
    assert.equal(err.metadata, metadata);
    assert.equal(err.cause, cause);
    assert.equal(err.message, "UNAVAILABLE: ");
  });

  test("shows a number outside the enum as itself in message", () => {
    assert.equal(new GrpcError(99 as Code, "odd").message, "99: odd");
  });

  test("packs details given as {desc, value} into Any", () => {
    const err = new GrpcError(Code.INVALID_ARGUMENT, "bad", {
      details: [{ desc: BadRequestSchema, value: { fieldViolations: [{ field: "name", description: "empty" }] } }],
    });
    assert.equal(err.details.length, 1);
    assert.equal(err.details[0]!.typeUrl, "type.googleapis.com/google.rpc.BadRequest");
    const unpacked = anyUnpack(err.details[0]!, BadRequestSchema);
    assert.equal(unpacked?.fieldViolations[0]?.field, "name");
    assert.equal(unpacked?.fieldViolations[0]?.description, "empty");
  });

  test("keeps details given as Any as they are, alongside packed ones in order", () => {
    const any = anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "QUOTA", domain: "example.com" }));
    const err = new GrpcError(Code.RESOURCE_EXHAUSTED, "slow down", {
      details: [any, { desc: RetryInfoSchema, value: { retryDelay: { seconds: 3n } } }],
    });
    assert.equal(err.details[0], any);
    assert.deepEqual(err.details.map((d) => d.typeUrl), [
      "type.googleapis.com/google.rpc.ErrorInfo",
      "type.googleapis.com/google.rpc.RetryInfo",
    ]);
  });

  test("findDetails returns every detail of one type, decoded, and nothing for absent types", () => {
    const err = new GrpcError(Code.FAILED_PRECONDITION, "x", {
      details: [
        { desc: ErrorInfoSchema, value: { reason: "FIRST" } },
        { desc: RetryInfoSchema, value: { retryDelay: { seconds: 1n, nanos: 500_000_000 } } },
        { desc: ErrorInfoSchema, value: { reason: "SECOND", metadata: { k: "v" } } },
      ],
    });
    const infos = err.findDetails(ErrorInfoSchema);
    assert.deepEqual(infos.map((i) => i.reason), ["FIRST", "SECOND"]);
    assert.deepEqual(infos[1]!.metadata, { k: "v" });
    const retry = err.findDetails(RetryInfoSchema);
    assert.equal(retry.length, 1);
    assert.equal(retry[0]!.retryDelay?.seconds, 1n);
    assert.equal(retry[0]!.retryDelay?.nanos, 500_000_000);
    assert.deepEqual(err.findDetails(BadRequestSchema), []);
  });

  test("findDetails skips a detail whose type URL matches but whose bytes do not parse", () => {
    const broken = { ...anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "R" })), value: Uint8Array.of(0xff, 0xff, 0xff) };
    const err = new GrpcError(Code.INTERNAL, "x", { details: [broken, { desc: ErrorInfoSchema, value: { reason: "OK" } }] });
    assert.throws(() => anyUnpack(broken, ErrorInfoSchema), "the detail really is malformed");
    assert.deepEqual(err.findDetails(ErrorInfoSchema).map((i) => i.reason), ["OK"]);
  });

  test("from() returns a GrpcError unchanged", () => {
    const err = new GrpcError(Code.ABORTED, "x");
    assert.equal(GrpcError.from(err), err);
    assert.equal(GrpcError.from(err, Code.INTERNAL, "other"), err);
  });

  const foreign: [name: string, reason: unknown][] = [
    ["an Error", new Error("boom")], ["a string", "boom"], ["undefined", undefined], ["an object", { code: 5 }],
  ];
  for (const [name, reason] of foreign) {
    test(`from() wraps ${name} as UNKNOWN with a generic message and the reason as cause`, () => {
      const err = GrpcError.from(reason);
      assert.equal(err.code, Code.UNKNOWN);
      assert.equal(err.rawMessage, "unexpected error");
      assert.equal(err.cause, reason);
    });
  }

  test("from() uses the fallback code and message it is given", () => {
    const err = GrpcError.from(new Error("deflate failed"), Code.INTERNAL, "failed to decompress");
    assert.equal(err.code, Code.INTERNAL);
    assert.equal(err.rawMessage, "failed to decompress");
  });
});

describe("grpc-status-details-bin", () => {
  test("encodes a google.rpc.Status that decodes back to the same code, message and details", () => {
    const details = new GrpcError(Code.INVALID_ARGUMENT, "m", {
      details: [
        { desc: BadRequestSchema, value: { fieldViolations: [{ field: "a", description: "b" }] } },
        { desc: ErrorInfoSchema, value: { reason: "R", domain: "d" } },
      ],
    }).details;
    const bytes = encodeStatusDetails(Code.INVALID_ARGUMENT, "bad request ☺", details);
    const decoded = decodeStatusDetails(bytes);
    assert.ok(decoded !== undefined);
    assert.equal(decoded.code, Code.INVALID_ARGUMENT);
    assert.equal(decoded.message, "bad request ☺");
    assert.deepEqual(decoded.details.map((d) => d.typeUrl), details.map((d) => d.typeUrl));
    assert.deepEqual(decoded.details.map((d) => d.value), details.map((d) => d.value));
    const rebuilt = new GrpcError(decoded.code, decoded.message, { details: decoded.details });
    assert.equal(rebuilt.findDetails(ErrorInfoSchema)[0]?.reason, "R");
  });

  test("encodes the same bytes as protobuf-es does for google.rpc.Status", () => {
    const any = anyPack(DurationSchema, create(DurationSchema, { seconds: 2n }));
    const want = toBinary(StatusSchema, create(StatusSchema, { code: 5, message: "nf", details: [any] }));
    assert.deepEqual(encodeStatusDetails(Code.NOT_FOUND, "nf", [any]), want);
  });

  test("decodes empty bytes as code 0, empty message, no details", () => {
    assert.deepEqual(decodeStatusDetails(new Uint8Array(0)), { code: 0, message: "", details: [] });
  });

  test("encodes OK with no message and no details as empty bytes", () => {
    assert.equal(encodeStatusDetails(Code.OK, "", []).length, 0);
  });

  const garbage: [name: string, bytes: Uint8Array][] = [
    ["a truncated varint", Uint8Array.of(0x08, 0xff)],
    ["a length past the end", Uint8Array.of(0x12, 0x10, 0x41)],
    ["an invalid wire type", Uint8Array.of(0x0f)],
    ["invalid UTF-8 in the message", Uint8Array.of(0x12, 0x02, 0xc3, 0x28)],
    ["random bytes", Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)],
  ];
  for (const [name, bytes] of garbage) {
    test(`decodeStatusDetails returns undefined for ${name}`, () => {
      assert.equal(decodeStatusDetails(bytes), undefined);
    });
  }
});
