/**
 * Spec corner cases on the wire, one focused test each: a raw node:http2 server
 * speaking to the grpc-ts client, and a raw node:http2 client speaking to the grpc-ts
 * server (grpc/grpc doc/PROTOCOL-HTTP2.md, http-grpc-status-mapping.md).
 */
import assert from "node:assert/strict";
import type { ServerHttp2Stream } from "node:http2";
import { after, before, beforeEach, describe, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Code, GrpcError, Metadata, Server, createChannel, createClient, credentials, type Channel, type Client } from "../src/index.js";
import { BadRequestSchema, ErrorInfoSchema } from "../src/gen/google/rpc/error_details_pb.js";
import { encodeStatusDetails } from "../src/protocol/status.js";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "./gen/echo_pb.js";
import {
  NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM,
  connectRawClient, grpcFrame, grpcRequestHeaders, parseGrpcFrames, readRequestBody, respondGrpc, startRawServer,
  type RawClient, type RawServer, type RawStreamHandler,
} from "./helpers/raw-http2.js";
import { echoService, startServer, type TestServer } from "./helpers/server.js";

function responseBytes(message: string, index = 0, payload = new Uint8Array()): Uint8Array {
  return toBinary(EchoResponseSchema, create(EchoResponseSchema, { message, index, payload }));
}

function requestBytes(message: string): Uint8Array {
  return toBinary(EchoRequestSchema, create(EchoRequestSchema, { message }));
}

/** Rejects unless `promise` fails with a GrpcError of `code`; returns that error. */
async function expectGrpcError(promise: Promise<unknown>, code: Code): Promise<GrpcError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${Code[code]}, got ${err.message}`);
    return err;
  }
  assert.fail(`expected ${Code[code]}, but the call succeeded`);
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

describe("grpc-ts client against a raw HTTP/2 server", () => {
  let raw: RawServer;
  let channel: Channel;
  let client: Client<typeof Echo>;
  let handler: RawStreamHandler = (stream) => stream.close(NGHTTP2_INTERNAL_ERROR);

  /** Answers the next requests with `respond` once their body is read. */
  function answer(respond: (stream: ServerHttp2Stream) => void | Promise<void>): void {
    handler = (stream) => {
      void readRequestBody(stream).then(() => respond(stream));
    };
  }

  before(async () => {
    raw = await startRawServer((stream, headers) => handler(stream, headers));
    channel = createChannel(raw.target, credentials.insecure());
    client = createClient(Echo, channel);
  });
  after(async () => {
    channel.close();
    await raw.close();
  });

  test("reassembles a response message split across DATA frames", async () => {
    const payload = new Uint8Array(3000).map((_, i) => i % 251);
    const frame = grpcFrame(responseBytes("split", 0, payload));
    answer((stream) => respondGrpc(stream, { body: [frame.subarray(0, 1), frame.subarray(1, 4), frame.subarray(4, 9), frame.subarray(9, 1500), frame.subarray(1500)], gapMs: 15 }));
    const res = await client.unary({ message: "ignored" });
    assert.equal(res.message, "split");
    assert.deepEqual(res.payload, payload);
  });

  test("delivers each of several response messages that share one DATA frame", async () => {
    const body = Buffer.concat([grpcFrame(responseBytes("a", 0)), grpcFrame(responseBytes("b", 1)), grpcFrame(responseBytes("c", 2))]);
    answer((stream) => respondGrpc(stream, { body: [body] }));
    const got = await collect(client.serverStream({ count: 3 }));
    assert.deepEqual(got.map((r) => [r.message, r.index]), [["a", 0], ["b", 1], ["c", 2]]);
  });

  test("reads an OK status from a trailers-only response as an empty stream", async () => {
    answer((stream) => stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true }));
    assert.deepEqual(await collect(client.serverStream({ count: 3 })), []);
  });

  test("reads an error, its details and its metadata from a trailers-only response", async () => {
    const details = encodeStatusDetails(Code.INVALID_ARGUMENT, "bad name", [
      anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [{ field: "name", description: "must not be empty" }] })),
      anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "EMPTY_NAME", domain: "grpc-ts.test" })),
    ]);
    answer((stream) =>
      stream.respond({
        ":status": 200,
        "content-type": "application/grpc",
        "grpc-status": "3",
        "grpc-message": "bad name",
        "grpc-status-details-bin": Buffer.from(details).toString("base64"),
        "x-request-id": "r-42",
      }, { endStream: true }),
    );
    let trailer: Metadata | undefined;
    const err = await expectGrpcError(client.unary({ message: "" }, { onTrailer: (t) => (trailer = t) }), Code.INVALID_ARGUMENT);
    assert.equal(err.rawMessage, "bad name");
    assert.deepEqual(err.findDetails(BadRequestSchema).map((d) => d.fieldViolations.map((v) => [v.field, v.description])), [[["name", "must not be empty"]]]);
    assert.deepEqual(err.findDetails(ErrorInfoSchema).map((d) => d.reason), ["EMPTY_NAME"]);
    assert.equal(err.metadata.getString("x-request-id"), "r-42");
    assert.equal(trailer?.getString("x-request-id"), "r-42");
  });

  test("ends an empty server stream OK when headers and trailers carry no message", async () => {
    answer((stream) => respondGrpc(stream, { body: [] }));
    assert.deepEqual(await collect(client.serverStream({ count: 0 })), []);
  });

  test("fails a unary call that ends OK without a response message with UNIMPLEMENTED", async () => {
    answer((stream) => respondGrpc(stream, { body: [] }));
    await expectGrpcError(client.unary({ message: "x" }), Code.UNIMPLEMENTED);
  });

  const percentCases = [
    ["caf%C3%A9 %E2%9C%93 100%25 %F0%9F%98%80", "café ✓ 100% 😀"],
    ["line one%0Aline two%09tabbed", "line one\nline two\ttabbed"],
    ["lower-case hex %c3%a9", "lower-case hex é"],
    ["broken %zz escape and a trailing %", "broken %zz escape and a trailing %"],
    ["cut escape %4", "cut escape %4"],
    ["plain ASCII message", "plain ASCII message"],
  ] as const;
  for (const [wire, want] of percentCases) {
    test(`decodes grpc-message ${JSON.stringify(wire)} to ${JSON.stringify(want)}`, async () => {
      answer((stream) => respondGrpc(stream, { body: [], trailers: { "grpc-status": String(Code.ABORTED), "grpc-message": wire } }));
      const err = await expectGrpcError(client.unary({ message: "x" }), Code.ABORTED);
      assert.equal(err.rawMessage, want);
    });
  }

  test("decodes an invalid UTF-8 escape in grpc-message to U+FFFD instead of failing", async () => {
    answer((stream) => respondGrpc(stream, { body: [], trailers: { "grpc-status": String(Code.ABORTED), "grpc-message": "bad byte %FF here" } }));
    const err = await expectGrpcError(client.unary({ message: "x" }), Code.ABORTED);
    assert.equal(err.rawMessage, "bad byte \uFFFD here");
  });

  /** A bidi call whose request side stays open until the test ends: the server finishes first. */
  async function bidiWithOpenRequests(): Promise<{ messages: string[]; error: GrpcError | undefined }> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* requests() {
      yield { message: "first" };
      await gate;
    }
    const messages: string[] = [];
    try {
      for await (const res of client.bidi(requests())) messages.push(res.message);
      return { messages, error: undefined };
    } catch (err) {
      assert.ok(err instanceof GrpcError);
      return { messages, error: err };
    } finally {
      release();
    }
  }

  /** Sends headers, one message and `trailers`, then RST_STREAM(NO_ERROR) while the client is still sending. */
  function trailersThenReset(trailers: Record<string, string>): RawStreamHandler {
    return (stream) => {
      stream.resume();
      stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
      stream.once("wantTrailers", () => {
        stream.sendTrailers(trailers);
        setImmediate(() => stream.close(NGHTTP2_NO_ERROR));
      });
      stream.end(grpcFrame(responseBytes("before the reset")));
    };
  }

  test("keeps an OK status when RST_STREAM(NO_ERROR) follows complete trailers", async () => {
    handler = trailersThenReset({ "grpc-status": "0" });
    const { messages, error } = await bidiWithOpenRequests();
    assert.equal(error, undefined);
    assert.deepEqual(messages, ["before the reset"]);
  });

  test("keeps an error status when RST_STREAM(NO_ERROR) follows complete trailers", async () => {
    handler = trailersThenReset({ "grpc-status": String(Code.NOT_FOUND), "grpc-message": "gone" });
    const { messages, error } = await bidiWithOpenRequests();
    assert.deepEqual(messages, ["before the reset"]);
    assert.equal(error?.code, Code.NOT_FOUND);
    assert.equal(error?.rawMessage, "gone");
  });

  test("fails with UNKNOWN when the trailers carry no grpc-status", async () => {
    answer((stream) => respondGrpc(stream, { body: [grpcFrame(responseBytes("m"))], trailers: { "x-note": "no status here" } }));
    const err = await expectGrpcError(client.unary({ message: "x" }), Code.UNKNOWN);
    assert.equal(err.metadata.getString("x-note"), "no status here");
  });

  test("fails with UNKNOWN when a trailers-only HTTP 200 response carries no grpc-status", async () => {
    answer((stream) => stream.respond({ ":status": 200, "content-type": "application/grpc" }, { endStream: true }));
    await expectGrpcError(client.unary({ message: "x" }), Code.UNKNOWN);
  });

  test("fails with INTERNAL, as grpc-go and grpc-java do, when the response ends on a DATA frame without trailers", async () => {
    answer((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      stream.end(grpcFrame(responseBytes("m")));
    });
    await expectGrpcError(client.unary({ message: "x" }), Code.INTERNAL);
  });

  const httpStatusCases: [number, Code][] = [
    [400, Code.INTERNAL],
    [401, Code.UNAUTHENTICATED],
    [403, Code.PERMISSION_DENIED],
    [404, Code.UNIMPLEMENTED],
    [429, Code.UNAVAILABLE],
    [502, Code.UNAVAILABLE],
    [503, Code.UNAVAILABLE],
    [504, Code.UNAVAILABLE],
    [500, Code.UNKNOWN],
    [418, Code.UNKNOWN],
    [431, Code.UNKNOWN],
  ];
  for (const [httpStatus, code] of httpStatusCases) {
    test(`maps HTTP ${httpStatus} without grpc-status to ${Code[code]}, with or without a body`, async () => {
      answer((stream) => stream.respond({ ":status": httpStatus }, { endStream: true }));
      await expectGrpcError(client.unary({ message: "x" }), code);
      answer((stream) => {
        stream.respond({ ":status": httpStatus, "content-type": "text/html" });
        stream.end("<html><body>proxy error</body></html>");
      });
      await expectGrpcError(client.unary({ message: "x" }), code);
    });
  }

  for (const [httpStatus, grpcStatus] of [[404, Code.RESOURCE_EXHAUSTED], [503, Code.FAILED_PRECONDITION], [400, Code.PERMISSION_DENIED]] as const) {
    test(`lets grpc-status ${Code[grpcStatus]} win over HTTP ${httpStatus}`, async () => {
      answer((stream) => stream.respond({ ":status": httpStatus, "content-type": "application/grpc", "grpc-status": String(grpcStatus), "grpc-message": "from grpc-status" }, { endStream: true }));
      const err = await expectGrpcError(client.unary({ message: "x" }), grpcStatus);
      assert.equal(err.rawMessage, "from grpc-status");
    });
  }

  test("lets grpc-status OK win over HTTP 503", async () => {
    answer((stream) => stream.respond({ ":status": 503, "content-type": "application/grpc", "grpc-status": "0" }, { endStream: true }));
    assert.deepEqual(await collect(client.serverStream({ count: 1 })), []);
  });

  const rstCases: [string, number, Code][] = [
    ["REFUSED_STREAM", NGHTTP2_REFUSED_STREAM, Code.UNAVAILABLE],
    ["CANCEL", NGHTTP2_CANCEL, Code.CANCELLED],
    ["ENHANCE_YOUR_CALM", NGHTTP2_ENHANCE_YOUR_CALM, Code.RESOURCE_EXHAUSTED],
    ["INTERNAL_ERROR", NGHTTP2_INTERNAL_ERROR, Code.INTERNAL],
    ["NO_ERROR", NGHTTP2_NO_ERROR, Code.INTERNAL],
  ];
  for (const [name, rstCode, code] of rstCases) {
    test(`maps RST_STREAM(${name}) without trailers to ${Code[code]}, before and after response headers`, async () => {
      answer((stream) => stream.close(rstCode));
      await expectGrpcError(client.unary({ message: "x" }), code);
      answer((stream) => {
        // waitForTrailers keeps close() from ending the stream cleanly before its RST_STREAM.
        stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
        stream.write(grpcFrame(responseBytes("partial")));
        setTimeout(() => stream.close(rstCode), 20);
      });
      await expectGrpcError(collect(client.serverStream({ count: 2 })), code);
    });
  }

  test("decodes -bin trailer values sent padded, unpadded and comma-joined", async () => {
    answer((stream) =>
      respondGrpc(stream, {
        body: [grpcFrame(responseBytes("m"))],
        headers: { "x-header-bin": "AQI" },
        trailers: {
          "grpc-status": "0",
          "x-padded-bin": "AQI=",
          "x-unpadded-bin": "AQI",
          "x-joined-bin": "AQI=,AwQ,BQYH",
          "x-repeated-bin": ["AQI", "AwQ="],
          "x-text": "plain, with a comma",
        },
      }),
    );
    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    await client.unary({ message: "x" }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    const bytes = (values: unknown[]) => values.map((v) => (v instanceof Uint8Array ? [...v] : v));
    assert.deepEqual(bytes(header!.getAll("x-header-bin")), [[1, 2]]);
    assert.deepEqual(bytes(trailer!.getAll("x-padded-bin")), [[1, 2]]);
    assert.deepEqual(bytes(trailer!.getAll("x-unpadded-bin")), [[1, 2]]);
    assert.deepEqual(bytes(trailer!.getAll("x-joined-bin")), [[1, 2], [3, 4], [5, 6, 7]]);
    assert.deepEqual(bytes(trailer!.getAll("x-repeated-bin")), [[1, 2], [3, 4]]);
    assert.equal(trailer!.getString("x-text"), "plain, with a comma");
  });

  test("keeps -bin trailer metadata on the error of a failed call", async () => {
    answer((stream) => stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": "14", "x-retry-bin": "AQI,AwQ=" }, { endStream: true }));
    const err = await expectGrpcError(client.unary({ message: "x" }), Code.UNAVAILABLE);
    assert.deepEqual(err.metadata.getAll("x-retry-bin").map((v) => [...(v as Uint8Array)]), [[1, 2], [3, 4]]);
  });
});

describe("grpc-ts server against a raw HTTP/2 client", () => {
  let server: TestServer;
  let raw: RawClient;

  before(async () => {
    server = await startServer((s: Server) =>
      s.add(Echo, {
        ...echoService,
        async unary(req, ctx) {
          if (req.message === "fail with details") {
            throw new GrpcError(Code.FAILED_PRECONDITION, "café ✓ 100%\nsecond line", {
              details: [{ desc: ErrorInfoSchema, value: { reason: "NOT_READY", domain: "grpc-ts.test" } }],
            });
          }
          if (req.message === "binary trailer") ctx.responseTrailer.set("x-out-bin", Uint8Array.of(1, 2));
          return { message: req.message };
        },
      }),
    );
    raw = await connectRawClient(server.port);
  });
  after(async () => {
    await raw.close();
    await server.close();
  });
  beforeEach(() => assert.equal(raw.session.destroyed, false));

  test("reassembles a request message split across DATA frames", async () => {
    const frame = grpcFrame(requestBytes("split request"));
    const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/Unary"), {
      body: [frame.subarray(0, 1), frame.subarray(1, 3), frame.subarray(3, 6), frame.subarray(6)],
      gapMs: 15,
    });
    assert.equal(res.trailers?.["grpc-status"], "0");
    assert.equal(fromBinary(EchoResponseSchema, parseGrpcFrames(res.body)[0]!.payload).message, "split request");
  });

  test("reads each of several request messages that share one DATA frame", async () => {
    const body = Buffer.concat(["a", "b", "c"].map((m) => grpcFrame(requestBytes(m))));
    const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/ClientStream"), { body: [body] });
    assert.equal(res.trailers?.["grpc-status"], "0");
    const reply = fromBinary(EchoResponseSchema, parseGrpcFrames(res.body)[0]!.payload);
    assert.equal(reply.message, "a,b,c");
    assert.equal(reply.index, 3);
  });

  test("answers an empty server stream with a trailers-only OK response", async () => {
    const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/ServerStream"), { body: [grpcFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { count: 0 })))] });
    assert.equal(res.trailersOnly, true);
    assert.equal(res.headers[":status"], 200);
    assert.equal(res.headers["grpc-status"], "0");
    assert.equal(res.body.length, 0);
  });

  test("sends an early error as trailers-only, percent-encoding its message and attaching details", async () => {
    const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/Unary"), { body: [grpcFrame(requestBytes("fail with details"))] });
    assert.equal(res.trailersOnly, true);
    assert.equal(res.headers["grpc-status"], String(Code.FAILED_PRECONDITION));
    assert.equal(res.headers["grpc-message"], "caf%C3%A9 %E2%9C%93 100%25%0Asecond line");
    const details = res.headers["grpc-status-details-bin"];
    assert.equal(typeof details, "string");
    assert.doesNotMatch(details as string, /=$/, "-bin values go out unpadded");
  });

  test("sends -bin trailer metadata as unpadded base64", async () => {
    const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/Unary"), { body: [grpcFrame(requestBytes("binary trailer"))] });
    assert.equal(res.trailers?.["grpc-status"], "0");
    assert.equal(res.trailers?.["x-out-bin"], "AQI");
  });

  test("round-trips a non-ASCII status message to the grpc-ts client byte for byte", async () => {
    const channel = createChannel(server.target, credentials.insecure());
    try {
      const err = await expectGrpcError(createClient(Echo, channel).unary({ message: "fail with details" }), Code.FAILED_PRECONDITION);
      assert.equal(err.rawMessage, "café ✓ 100%\nsecond line");
      assert.deepEqual(err.findDetails(ErrorInfoSchema).map((d) => d.reason), ["NOT_READY"]);
    } finally {
      channel.close();
    }
  });

  test("follows a response completed before the client half-closed with RST_STREAM(NO_ERROR)", async () => {
    // The bidi handler fails on the first message while the request side is still open.
    const stream = raw.session.request(grpcRequestHeaders("/grpcts.test.Echo/Bidi"), { endStream: false });
    let status: unknown;
    stream.on("response", (headers) => (status ??= headers["grpc-status"]));
    stream.on("trailers", (trailers) => (status ??= trailers["grpc-status"]));
    stream.on("error", () => undefined);
    stream.resume();
    stream.write(grpcFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { failCode: Code.ABORTED, failMessage: "stop" }))));
    const rstCode = await new Promise<number | "still open">((resolve) => {
      const timer = setTimeout(() => resolve("still open"), 2000);
      stream.once("close", () => {
        clearTimeout(timer);
        resolve(stream.rstCode ?? -1);
      });
    });
    if (!stream.closed) stream.close(NGHTTP2_CANCEL);
    assert.equal(status, String(Code.ABORTED));
    assert.equal(rstCode, NGHTTP2_NO_ERROR);
  });
});
