/**
 * Interop with @grpc/grpc-js, the independent peer: the grpc-ts client against a
 * grpc-js server, and a grpc-js client against the grpc-ts server, for every call
 * type, metadata (ASCII and -bin; headers and trailers), status with rich details,
 * deadlines, cancellation and compression.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create } from "@bufbuild/protobuf";
import { anyPack, anyUnpack } from "@bufbuild/protobuf/wkt";
import {
  Code, CodecRegistry, GrpcError, Metadata, createChannel, createClient, credentials, deflateCodec, gzipCodec,
  type Channel, type Client, type Codec, type HandlerContext,
} from "../src/index.js";
import { BadRequestSchema, ErrorInfoSchema } from "../src/gen/google/rpc/error_details_pb.js";
import { decodeStatusDetails, encodeStatusDetails } from "../src/protocol/status.js";
import { Echo } from "./gen/echo_pb.js";
import { createJsClient, grpc, jsClientStream, jsCollect, jsUnary, startJsServer, type JsEchoClient, type JsEchoRequest, type JsServer } from "./helpers/grpc-js.js";
import { startServer, type TestServer } from "./helpers/server.js";

const binValue = Uint8Array.of(0, 1, 2, 0xfe, 0xff);

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

/** Rejects unless a grpc-js call fails with `code`; returns the ServiceError. */
async function expectJsError(promise: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    const e = err as grpc.ServiceError;
    assert.equal(e.code, code, `expected ${grpc.status[code]}, got ${String(e.code)}: ${e.details}`);
    return e;
  }
  assert.fail(`expected ${grpc.status[code]}, but the call succeeded`);
}

/** Resolves with the reason of the next cancellation a handler reports. */
class CancellationLog {
  private waiters: ((reason: string) => void)[] = [];
  readonly seen: string[] = [];
  record(reason: string): void {
    this.seen.push(reason);
    for (const w of this.waiters.splice(0)) w(reason);
  }
  next(): Promise<string> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** A codec that records each use, to prove the peer really compressed or the local side did. */
function recording(codec: Codec, log: string[]): Codec {
  return {
    name: codec.name,
    compress: (data) => {
      log.push(`compress ${codec.name}`);
      return codec.compress(data);
    },
    decompress: (data, maxBytes) => {
      log.push(`decompress ${codec.name}`);
      return codec.decompress(data, maxBytes);
    },
  };
}

describe("grpc-ts client against a grpc-js server", () => {
  let js: JsServer;
  let channel: Channel;
  let client: Client<typeof Echo>;
  const cancellations = new CancellationLog();
  const codecLog: string[] = [];

  /** Response headers: every x-* request entry echoed back. */
  function echoHeaders(md: grpc.Metadata): grpc.Metadata {
    const out = new grpc.Metadata();
    for (const [key, value] of Object.entries(md.getMap())) if (key.startsWith("x-")) out.set(key, value);
    return out;
  }

  function trailers(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set("x-trailer", "done");
    md.set("x-trailer-bin", Buffer.from(binValue));
    return md;
  }

  /** A grpc-js error with google.rpc.Status details built by grpc-ts's encoder. */
  function richError(code: number, message: string): grpc.ServerErrorResponse {
    const metadata = trailers();
    const details = encodeStatusDetails(code, message, [
      anyPack(BadRequestSchema, create(BadRequestSchema, { fieldViolations: [{ field: "message", description: "is rejected" }] })),
      anyPack(ErrorInfoSchema, create(ErrorInfoSchema, { reason: "REJECTED", domain: "grpc-js.test" })),
    ]);
    metadata.set("grpc-status-details-bin", Buffer.from(details));
    return Object.assign(new Error(message), { code, details: message, metadata });
  }

  function watchCancel(call: { on(event: "cancelled", listener: (reason: string) => void): unknown }): void {
    call.on("cancelled", (reason) => cancellations.record(reason));
  }

  before(async () => {
    js = await startJsServer({
      unary(call, callback) {
        watchCancel(call);
        const req = call.request;
        call.sendMetadata(echoHeaders(call.metadata));
        const reply = () => {
          if (req.failCode !== 0) callback(richError(req.failCode, req.failMessage));
          else callback(null, { message: req.message, payload: req.payload, index: 0 }, trailers());
        };
        if (req.delayMs > 0) {
          const timer = setTimeout(reply, req.delayMs);
          call.on("cancelled", () => clearTimeout(timer));
        } else {
          reply();
        }
      },
      serverStream(call) {
        watchCancel(call);
        const req = call.request;
        call.sendMetadata(echoHeaders(call.metadata));
        let i = 0;
        const next = () => {
          if (call.cancelled) return;
          if (i < req.count) {
            call.write({ message: req.message, payload: req.payload, index: i++ });
            setTimeout(next, req.delayMs);
          } else if (req.failCode !== 0) {
            call.emit("error", richError(req.failCode, req.failMessage));
          } else {
            call.end(trailers());
          }
        };
        next();
      },
      clientStream(call, callback) {
        watchCancel(call);
        call.sendMetadata(echoHeaders(call.metadata));
        const messages: string[] = [];
        call.on("data", (req: Required<JsEchoRequest>) => messages.push(req.message));
        call.on("end", () => callback(null, { message: messages.join(","), payload: Buffer.alloc(0), index: messages.length }, trailers()));
      },
      bidi(call) {
        watchCancel(call);
        call.sendMetadata(echoHeaders(call.metadata));
        let i = 0;
        call.on("data", (req: Required<JsEchoRequest>) => call.write({ message: req.message, payload: req.payload, index: i++ }));
        call.on("end", () => call.end(trailers()));
      },
    });
    channel = createChannel(js.target, credentials.insecure(), { codecs: new CodecRegistry([recording(gzipCodec, codecLog), recording(deflateCodec, codecLog)]) });
    client = createClient(Echo, channel);
  });
  after(() => {
    channel.close();
    js.close();
  });

  function requestMetadata(): Metadata {
    return new Metadata().set("x-ascii", "hello grpc-js").set("x-data-bin", binValue);
  }

  function assertEchoedHeader(header: Metadata | undefined): void {
    assert.equal(header?.getString("x-ascii"), "hello grpc-js");
    assert.deepEqual(header?.getBinary("x-data-bin"), binValue);
  }

  function assertTrailers(trailer: Metadata | undefined): void {
    assert.equal(trailer?.getString("x-trailer"), "done");
    assert.deepEqual(trailer?.getBinary("x-trailer-bin"), binValue);
  }

  test("unary: the message, ASCII and -bin request metadata, response headers and trailers cross intact", async () => {
    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    const res = await client.unary({ message: "hi", payload: binValue }, { metadata: requestMetadata(), onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    assert.equal(res.message, "hi");
    assert.deepEqual(new Uint8Array(res.payload), binValue);
    assertEchoedHeader(header);
    assertTrailers(trailer);
  });

  test("server streaming: every message arrives in order, with headers and trailers", async () => {
    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    const got: number[] = [];
    for await (const res of client.serverStream({ message: "s", count: 4 }, { metadata: requestMetadata(), onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) })) {
      got.push(res.index);
    }
    assert.deepEqual(got, [0, 1, 2, 3]);
    assertEchoedHeader(header);
    assertTrailers(trailer);
  });

  test("client streaming: every request message arrives, with headers and trailers", async () => {
    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    async function* requests() {
      for (const message of ["a", "b", "c"]) {
        await sleep(5);
        yield { message };
      }
    }
    const res = await client.clientStream(requests(), { metadata: requestMetadata(), onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
    assert.equal(res.message, "a,b,c");
    assert.equal(res.index, 3);
    assertEchoedHeader(header);
    assertTrailers(trailer);
  });

  test("bidi streaming: each request is answered in turn, with headers and trailers", async () => {
    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    const got: string[] = [];
    for await (const res of client.bidi([{ message: "x" }, { message: "y" }, { message: "z" }], { metadata: requestMetadata(), onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) })) {
      got.push(`${res.index}:${res.message}`);
    }
    assert.deepEqual(got, ["0:x", "1:y", "2:z"]);
    assertEchoedHeader(header);
    assertTrailers(trailer);
  });

  test("a grpc-js error reaches the client with its code, message, details and trailers", async () => {
    const err = await expectGrpcError(client.unary({ message: "x", failCode: Code.INVALID_ARGUMENT, failMessage: "rejected: ünïcode 100%" }), Code.INVALID_ARGUMENT);
    assert.equal(err.rawMessage, "rejected: ünïcode 100%");
    assert.deepEqual(err.findDetails(BadRequestSchema).map((d) => d.fieldViolations[0]?.field), ["message"]);
    assert.deepEqual(err.findDetails(ErrorInfoSchema).map((d) => d.reason), ["REJECTED"]);
    assertTrailers(err.metadata);
  });

  test("a grpc-js error after streamed messages ends the stream with that status", async () => {
    const got: number[] = [];
    const err = await expectGrpcError((async () => {
      for await (const res of client.serverStream({ count: 2, failCode: Code.RESOURCE_EXHAUSTED, failMessage: "quota" })) got.push(res.index);
    })(), Code.RESOURCE_EXHAUSTED);
    assert.deepEqual(got, [0, 1]);
    assert.equal(err.rawMessage, "quota");
    assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, "REJECTED");
  });

  test("a deadline ends the call with DEADLINE_EXCEEDED and the grpc-js handler sees the cancellation", async () => {
    const cancelled = cancellations.next();
    await expectGrpcError(client.unary({ message: "slow", delayMs: 5000 }, { timeoutMs: 100 }), Code.DEADLINE_EXCEEDED);
    assert.equal(await cancelled, "cancelled");
  });

  test("cancelling a stream gives CANCELLED and the grpc-js handler sees it", async () => {
    const controller = new AbortController();
    const cancelled = cancellations.next();
    const got: number[] = [];
    await expectGrpcError((async () => {
      for await (const res of client.serverStream({ count: 1000, delayMs: 20 }, { signal: controller.signal })) {
        got.push(res.index);
        if (got.length === 2) controller.abort();
      }
    })(), Code.CANCELLED);
    assert.deepEqual(got, [0, 1]);
    assert.equal(await cancelled, "cancelled");
  });

  for (const encoding of ["gzip", "deflate"]) {
    test(`${encoding}-compressed requests are read by grpc-js`, async () => {
      codecLog.length = 0;
      const message = `compress me with ${encoding} `.repeat(40);
      const res = await client.unary({ message }, { compression: encoding });
      assert.equal(res.message, message);
      const got: string[] = [];
      for await (const r of client.bidi([{ message: "one" }, { message: "two" }], { compression: encoding })) got.push(r.message);
      assert.deepEqual(got, ["one", "two"]);
      assert.deepEqual(codecLog, [`compress ${encoding}`, `compress ${encoding}`, `compress ${encoding}`]);
    });
  }
});

describe("grpc-js client against the grpc-ts server", () => {
  let server: TestServer;
  let js: JsEchoClient;
  const cancellations = new CancellationLog();
  const codecLog: string[] = [];

  function echoMetadata(ctx: HandlerContext): void {
    for (const [key, value] of ctx.requestMetadata) {
      if (key.startsWith("x-")) ctx.responseHeader.append(key, value);
    }
    ctx.responseTrailer.set("x-trailer", "done").set("x-trailer-bin", binValue);
  }

  function setUp(ctx: HandlerContext): void {
    echoMetadata(ctx);
    const compression = ctx.requestMetadata.getString("x-response-compression");
    if (compression !== undefined) ctx.setResponseCompression(compression);
    ctx.signal.addEventListener("abort", () => cancellations.record(Code[(ctx.signal.reason as GrpcError).code] ?? "?"), { once: true });
  }

  function richError(code: Code, message: string): GrpcError {
    return new GrpcError(code, message, {
      metadata: new Metadata().set("x-error-bin", binValue),
      details: [
        { desc: BadRequestSchema, value: { fieldViolations: [{ field: "message", description: "is rejected" }] } },
        { desc: ErrorInfoSchema, value: { reason: "REJECTED", domain: "grpc-ts.test" } },
      ],
    });
  }

  before(async () => {
    server = await startServer((s) =>
      s.add(Echo, {
        async unary(req, ctx) {
          setUp(ctx);
          if (req.delayMs > 0) await sleep(req.delayMs, undefined, { signal: ctx.signal }).catch(() => undefined);
          if (req.failCode !== 0) throw richError(req.failCode as Code, req.failMessage);
          return { message: req.message, payload: req.payload };
        },
        async *serverStream(req, ctx) {
          setUp(ctx);
          for (let i = 0; i < req.count; i++) {
            if (req.delayMs > 0) await sleep(req.delayMs, undefined, { signal: ctx.signal });
            yield { message: req.message, payload: req.payload, index: i };
          }
          if (req.failCode !== 0) throw richError(req.failCode as Code, req.failMessage);
        },
        async clientStream(reqs, ctx) {
          setUp(ctx);
          const messages: string[] = [];
          for await (const req of reqs) messages.push(req.message);
          return { message: messages.join(","), index: messages.length };
        },
        async *bidi(reqs, ctx) {
          setUp(ctx);
          let i = 0;
          for await (const req of reqs) yield { message: req.message, payload: req.payload, index: i++ };
        },
      }), { codecs: new CodecRegistry([recording(gzipCodec, codecLog), recording(deflateCodec, codecLog)]) });
    js = createJsClient(server.target);
  });
  after(async () => {
    js.close();
    await server.close();
  });

  function requestMetadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set("x-ascii", "hello grpc-ts");
    md.set("x-data-bin", Buffer.from(binValue));
    return md;
  }

  function assertEchoedHeader(header: grpc.Metadata | undefined): void {
    assert.deepEqual(header?.get("x-ascii"), ["hello grpc-ts"]);
    assert.deepEqual(header?.get("x-data-bin"), [Buffer.from(binValue)]);
  }

  function assertTrailers(trailer: grpc.Metadata): void {
    assert.deepEqual(trailer.get("x-trailer"), ["done"]);
    assert.deepEqual(trailer.get("x-trailer-bin"), [Buffer.from(binValue)]);
  }

  test("unary: the message, ASCII and -bin request metadata, response headers and trailers cross intact", async () => {
    const { response, header, status } = await jsUnary(js, { message: "hi", payload: Buffer.from(binValue) }, requestMetadata()).result;
    assert.equal(response.message, "hi");
    assert.deepEqual(response.payload, Buffer.from(binValue));
    assertEchoedHeader(header);
    assertTrailers(status.metadata);
  });

  test("server streaming: every message arrives in order, with headers and trailers", async () => {
    const { response, header, status } = await jsCollect(js.serverStream({ message: "s", count: 4 }, requestMetadata(), {}));
    assert.deepEqual(response.map((r) => r.index), [0, 1, 2, 3]);
    assertEchoedHeader(header);
    assertTrailers(status.metadata);
  });

  test("client streaming: every request message arrives, with headers and trailers", async () => {
    const { call, result } = jsClientStream(js, requestMetadata());
    for (const message of ["a", "b", "c"]) call.write({ message });
    call.end();
    const { response, header, status } = await result;
    assert.equal(response.message, "a,b,c");
    assert.equal(response.index, 3);
    assertEchoedHeader(header);
    assertTrailers(status.metadata);
  });

  test("bidi streaming: each request is answered in turn, with headers and trailers", async () => {
    const call = js.bidi(requestMetadata(), {});
    const done = jsCollect(call);
    for (const message of ["x", "y", "z"]) call.write({ message });
    call.end();
    const { response, header, status } = await done;
    assert.deepEqual(response.map((r) => `${r.index}:${r.message}`), ["0:x", "1:y", "2:z"]);
    assertEchoedHeader(header);
    assertTrailers(status.metadata);
  });

  test("a grpc-ts error reaches grpc-js with its code, message, details and metadata", async () => {
    const err = await expectJsError(jsUnary(js, { message: "x", failCode: Code.FAILED_PRECONDITION, failMessage: "not now: ünïcode 100%" }).result, grpc.status.FAILED_PRECONDITION);
    assert.equal(err.details, "not now: ünïcode 100%");
    assert.deepEqual(err.metadata.get("x-error-bin"), [Buffer.from(binValue)]);
    assertTrailers(err.metadata);
    const raw = err.metadata.get("grpc-status-details-bin")[0];
    assert.ok(Buffer.isBuffer(raw), "grpc-status-details-bin reached grpc-js");
    const status = decodeStatusDetails(raw);
    assert.equal(status?.code, Code.FAILED_PRECONDITION);
    assert.equal(status?.message, "not now: ünïcode 100%");
    const badRequest = status?.details.map((any) => anyUnpack(any, BadRequestSchema)).find((d) => d !== undefined);
    assert.equal(badRequest?.fieldViolations[0]?.field, "message");
  });

  test("a grpc-ts error after streamed messages ends the grpc-js stream with that status", async () => {
    const call = js.serverStream({ count: 2, failCode: Code.ABORTED, failMessage: "stop" }, new grpc.Metadata(), {});
    const got: number[] = [];
    call.on("data", (r: { index: number }) => got.push(r.index));
    const err = await expectJsError(jsCollect(call), grpc.status.ABORTED);
    assert.equal(err.details, "stop");
    assert.deepEqual(got, [0, 1]);
  });

  test("a grpc-js deadline ends the call with DEADLINE_EXCEEDED and the handler's signal aborts", async () => {
    const aborted = cancellations.next();
    await expectJsError(jsUnary(js, { message: "slow", delayMs: 5000 }, new grpc.Metadata(), { deadline: Date.now() + 150 }).result, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(["DEADLINE_EXCEEDED", "CANCELLED"].includes(await aborted));
  });

  test("grpc-js cancelling a stream gives CANCELLED and the handler's signal aborts with CANCELLED", async () => {
    const aborted = cancellations.next();
    const call = js.serverStream({ count: 1000, delayMs: 20 }, new grpc.Metadata(), {});
    const got: number[] = [];
    call.on("data", (r: { index: number }) => {
      got.push(r.index);
      if (got.length === 2) call.cancel();
    });
    await expectJsError(jsCollect(call), grpc.status.CANCELLED);
    assert.equal(await aborted, "CANCELLED");
    assert.deepEqual(got, [0, 1]);
  });

  for (const [encoding, algorithm] of [["deflate", 1], ["gzip", 2]] as const) {
    test(`grpc-js compresses requests with ${encoding} ('grpc.default_compression_algorithm' ${algorithm}) and the server reads them`, async () => {
      const compressing = createJsClient(server.target, { "grpc.default_compression_algorithm": algorithm });
      try {
        codecLog.length = 0;
        const message = `compressed by grpc-js with ${encoding} `.repeat(40);
        const { response } = await jsUnary(compressing, { message }).result;
        assert.equal(response.message, message);
        const call = compressing.bidi(new grpc.Metadata(), {});
        const done = jsCollect(call);
        call.write({ message: "one" });
        call.write({ message: "two" });
        call.end();
        assert.deepEqual((await done).response.map((r) => r.message), ["one", "two"]);
        assert.deepEqual(codecLog, [`decompress ${encoding}`, `decompress ${encoding}`, `decompress ${encoding}`]);
      } finally {
        compressing.close();
      }
    });

    test(`the server compresses responses with ${encoding} and grpc-js reads them`, async () => {
      codecLog.length = 0;
      const md = new grpc.Metadata();
      md.set("x-response-compression", encoding);
      const message = `compressed by grpc-ts with ${encoding} `.repeat(40);
      const { response } = await jsUnary(js, { message }, md).result;
      assert.equal(response.message, message);
      const { response: streamed } = await jsCollect(js.serverStream({ message: "s", count: 3 }, md, {}));
      assert.deepEqual(streamed.map((r) => r.index), [0, 1, 2]);
      assert.deepEqual(codecLog, Array(4).fill(`compress ${encoding}`));
    });
  }
});
