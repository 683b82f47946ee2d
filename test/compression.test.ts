/**
 * Message compression (grpc/grpc doc/compression.md): what the grpc-ts client puts on
 * the wire (seen by a raw node:http2 server), what the grpc-ts server answers (seen by
 * a raw node:http2 client), and the failures the spec assigns to bad encodings.
 */
import assert from "node:assert/strict";
import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import { after, before, describe, test } from "node:test";
import { deflateSync, gunzipSync, gzipSync, inflateSync } from "node:zlib";
import { create, fromBinary, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { Code, CodecRegistry, GrpcError, createChannel, createClient, credentials, deflateCodec, gzipCodec, type Channel, type ChannelOptions, type Client, type Codec } from "../src/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "./gen/echo_pb.js";
import {
  connectRawClient, grpcFrame, grpcRequestHeaders, parseGrpcFrames, readRequestBody, respondGrpc, startRawServer,
  type RawClient, type RawFrame, type RawServer,
} from "./helpers/raw-http2.js";
import { echoService, startServer, type TestServer } from "./helpers/server.js";

/** Compressible text, so a compressed frame is visibly smaller than the message. */
const compressible = "grpc-ts compression ".repeat(50);

const decompressors: Record<string, (data: Uint8Array) => Buffer> = {
  gzip: (data) => gunzipSync(data),
  deflate: (data) => inflateSync(data),
};

/** The message bytes a frame carries, decompressed with `encoding` when its flag says so. */
function frameMessage(frame: RawFrame, encoding: string | undefined): Uint8Array {
  if ((frame.flags & 1) === 0) return frame.payload;
  const decompress = encoding === undefined ? undefined : decompressors[encoding];
  assert.ok(decompress !== undefined, `compressed frame under grpc-encoding ${String(encoding)}`);
  return decompress(frame.payload);
}

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

describe("request compression by the grpc-ts client, seen on the wire", () => {
  let raw: RawServer;
  /** What the raw server received, one entry per request. */
  const received: { headers: IncomingHttpHeaders; frames: RawFrame[] }[] = [];
  const open: Channel[] = [];

  before(async () => {
    raw = await startRawServer((stream, headers) => {
      void readRequestBody(stream).then((body) => {
        received.push({ headers, frames: parseGrpcFrames(body) });
        const reply = toBinary(EchoResponseSchema, create(EchoResponseSchema, { message: "ok" }));
        return respondGrpc(stream, { body: [grpcFrame(reply)] });
      });
    });
  });
  after(async () => {
    for (const channel of open) channel.close();
    await raw.close();
  });

  function clientFor(options?: ChannelOptions): Client<typeof Echo> {
    const channel = createChannel(raw.target, credentials.insecure(), options);
    open.push(channel);
    return createClient(Echo, channel);
  }

  /** Makes one call and returns what the server received for it. */
  async function receivedFor(call: () => Promise<unknown>): Promise<{ headers: IncomingHttpHeaders; frames: RawFrame[] }> {
    received.length = 0;
    await call();
    assert.equal(received.length, 1);
    return received[0]!;
  }

  const request = create(EchoRequestSchema, { message: compressible });
  const requestBytes = toBinary(EchoRequestSchema, request);

  test("sends identity requests uncompressed, without grpc-encoding, advertising gzip and deflate", async () => {
    const client = clientFor();
    const got = await receivedFor(() => client.unary(request, { compression: "identity" }));
    assert.equal(got.headers["grpc-encoding"], undefined);
    assert.deepEqual(String(got.headers["grpc-accept-encoding"]).split(",").sort(), ["deflate", "gzip", "identity"]);
    assert.equal(got.frames.length, 1);
    assert.equal(got.frames[0]!.flags, 0);
    assert.deepEqual(new Uint8Array(got.frames[0]!.payload), requestBytes);
  });

  for (const encoding of ["gzip", "deflate"]) {
    test(`sends a ${encoding} request with grpc-encoding ${encoding} and the compressed flag set (CallOptions.compression)`, async () => {
      const client = clientFor();
      const got = await receivedFor(() => client.unary(request, { compression: encoding }));
      assert.equal(got.headers["grpc-encoding"], encoding);
      assert.equal(got.frames[0]!.flags, 1);
      assert.ok(got.frames[0]!.payload.length < requestBytes.length, "the payload was not compressed");
      assert.deepEqual(new Uint8Array(frameMessage(got.frames[0]!, encoding)), requestBytes);
    });

    test(`compresses every call with ${encoding} when the channel asks for it`, async () => {
      const client = clientFor({ compression: encoding });
      const got = await receivedFor(() => client.unary(request));
      assert.equal(got.headers["grpc-encoding"], encoding);
      assert.equal(got.frames[0]!.flags, 1);
      assert.deepEqual(new Uint8Array(frameMessage(got.frames[0]!, encoding)), requestBytes);
    });
  }

  test("lets a call's compression override the channel's", async () => {
    const client = clientFor({ compression: "gzip" });
    const plain = await receivedFor(() => client.unary(request, { compression: "identity" }));
    assert.equal(plain.headers["grpc-encoding"], undefined);
    assert.equal(plain.frames[0]!.flags, 0);
    const deflated = await receivedFor(() => client.unary(request, { compression: "deflate" }));
    assert.equal(deflated.headers["grpc-encoding"], "deflate");
    assert.deepEqual(new Uint8Array(frameMessage(deflated.frames[0]!, "deflate")), requestBytes);
  });

  test("leaves the messages compressMessage refuses uncompressed, under the same grpc-encoding", async () => {
    const client = clientFor();
    const messages = ["zero", "one (secret)", "two", "three (secret)"].map((m) => create(EchoRequestSchema, { message: `${m} ${compressible}` }));
    const got = await receivedFor(() => client.clientStream(messages, { compression: "gzip", compressMessage: (i) => i % 2 === 0 }));
    assert.equal(got.headers["grpc-encoding"], "gzip");
    assert.deepEqual(got.frames.map((f) => f.flags), [1, 0, 1, 0]);
    assert.deepEqual(got.frames.map((f) => fromBinary(EchoRequestSchema, frameMessage(f, "gzip")).message), messages.map((m) => m.message));
  });

  test("fails a call asking for an algorithm the channel does not have with INTERNAL, sending nothing", async () => {
    const client = clientFor();
    received.length = 0;
    const err = await expectGrpcError(client.unary(request, { compression: "snappy" }), Code.INTERNAL);
    assert.match(err.rawMessage, /snappy/);
    assert.equal(received.length, 0);
  });
});

describe("response compression by a raw server, read by the grpc-ts client", () => {
  let raw: RawServer;
  let channel: Channel;
  let client: Client<typeof Echo>;
  let respond: (stream: ServerHttp2Stream) => void = () => undefined;
  const reply = toBinary(EchoResponseSchema, create(EchoResponseSchema, { message: compressible }));

  before(async () => {
    raw = await startRawServer((stream) => void readRequestBody(stream).then(() => respond(stream)));
    channel = createChannel(raw.target, credentials.insecure());
    client = createClient(Echo, channel);
  });
  after(async () => {
    channel.close();
    await raw.close();
  });

  for (const [encoding, compress] of [["gzip", gzipSync], ["deflate", deflateSync]] as const) {
    test(`decompresses a ${encoding} response, and accepts an uncompressed message under the same encoding`, async () => {
      respond = (stream) => void respondGrpc(stream, { headers: { "grpc-encoding": encoding }, body: [grpcFrame(compress(reply), 1), grpcFrame(reply, 0)] });
      const got: string[] = [];
      for await (const res of client.serverStream({ count: 2 })) got.push(res.message);
      assert.deepEqual(got, [compressible, compressible]);
    });
  }

  test("fails with INTERNAL on a compressed response message without grpc-encoding", async () => {
    respond = (stream) => void respondGrpc(stream, { body: [grpcFrame(gzipSync(reply), 1)] });
    await expectGrpcError(client.unary({ message: "x" }), Code.INTERNAL);
  });

  test("fails with INTERNAL on a response grpc-encoding it does not support", async () => {
    respond = (stream) => void respondGrpc(stream, { headers: { "grpc-encoding": "snappy" }, body: [grpcFrame(reply, 1)] });
    await expectGrpcError(client.unary({ message: "x" }), Code.INTERNAL);
  });

  test("fails with INTERNAL on a corrupt gzip response", async () => {
    respond = (stream) => void respondGrpc(stream, { headers: { "grpc-encoding": "gzip" }, body: [grpcFrame(Buffer.from("definitely not gzip"), 1)] });
    await expectGrpcError(client.unary({ message: "x" }), Code.INTERNAL);
  });
});

describe("the grpc-ts server's compression, seen on the wire", () => {
  let server: TestServer;
  let raw: RawClient;
  const unaryPath = "/grpcts.test.Echo/Unary";

  before(async () => {
    server = await startServer((s) =>
      s.add(Echo, {
        ...echoService,
        unary(req, ctx) {
          const algorithm = ctx.requestMetadata.getString("x-response-compression");
          if (algorithm !== undefined) ctx.setResponseCompression(algorithm);
          return { message: req.message };
        },
        async *serverStream(req, ctx) {
          ctx.setResponseCompression("gzip");
          for (let i = 0; i < req.count; i++) {
            // Every second message uncompressed, as a handler mixing secrets into a stream would.
            ctx.compressNextMessage = i % 2 === 0;
            yield { message: `${i} ${req.message}`, index: i };
          }
        },
      }),
    );
    raw = await connectRawClient(server.port);
  });
  after(async () => {
    await raw.close();
    await server.close();
  });

  function requestFrame(init: MessageInitShape<typeof EchoRequestSchema>, flags = 0, encode: (b: Uint8Array) => Uint8Array = (b) => b): Buffer {
    return grpcFrame(encode(toBinary(EchoRequestSchema, create(EchoRequestSchema, init))), flags);
  }

  for (const encoding of ["gzip", "deflate"]) {
    test(`compresses the response with ${encoding} when the handler asks and the client accepts it`, async () => {
      const res = await raw.request(grpcRequestHeaders(unaryPath, { "grpc-accept-encoding": `identity,${encoding}`, "x-response-compression": encoding }), {
        body: [requestFrame({ message: compressible })],
      });
      assert.equal(res.trailers?.["grpc-status"], "0");
      assert.equal(res.headers["grpc-encoding"], encoding);
      const [frame] = parseGrpcFrames(res.body);
      assert.equal(frame!.flags, 1);
      assert.equal(fromBinary(EchoResponseSchema, frameMessage(frame!, encoding)).message, compressible);
    });
  }

  for (const accept of ["deflate,identity", "identity", undefined]) {
    test(`answers uncompressed when the client's grpc-accept-encoding is ${accept === undefined ? "absent" : JSON.stringify(accept)} and the handler asks for gzip`, async () => {
      const extra: Record<string, string> = { "x-response-compression": "gzip" };
      if (accept !== undefined) extra["grpc-accept-encoding"] = accept;
      const res = await raw.request(grpcRequestHeaders(unaryPath, extra), { body: [requestFrame({ message: compressible })] });
      assert.equal(res.trailers?.["grpc-status"], "0");
      assert.ok(res.headers["grpc-encoding"] === undefined || res.headers["grpc-encoding"] === "identity", `grpc-encoding ${String(res.headers["grpc-encoding"])}`);
      const [frame] = parseGrpcFrames(res.body);
      assert.equal(frame!.flags, 0);
      assert.equal(fromBinary(EchoResponseSchema, frame!.payload).message, compressible);
    });
  }

  test("compresses exactly the streamed messages for which compressNextMessage is true", async () => {
    const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/ServerStream", { "grpc-accept-encoding": "gzip" }), {
      body: [requestFrame({ message: compressible, count: 4 })],
    });
    assert.equal(res.trailers?.["grpc-status"], "0");
    assert.equal(res.headers["grpc-encoding"], "gzip");
    const frames = parseGrpcFrames(res.body);
    assert.deepEqual(frames.map((f) => f.flags), [1, 0, 1, 0]);
    assert.deepEqual(frames.map((f) => fromBinary(EchoResponseSchema, frameMessage(f, "gzip")).index), [0, 1, 2, 3]);
  });

  for (const encoding of ["gzip", "deflate"]) {
    test(`reads ${encoding}-compressed and uncompressed request messages under grpc-encoding ${encoding}`, async () => {
      const compress = encoding === "gzip" ? gzipSync : deflateSync;
      const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/ClientStream", { "grpc-encoding": encoding }), {
        body: [requestFrame({ message: "a" }, 1, compress), requestFrame({ message: "b" }, 0), requestFrame({ message: "c" }, 1, compress)],
      });
      assert.equal(res.trailers?.["grpc-status"], "0");
      assert.equal(fromBinary(EchoResponseSchema, parseGrpcFrames(res.body)[0]!.payload).message, "a,b,c");
    });
  }

  test("answers an unknown request grpc-encoding with UNIMPLEMENTED, listing the accepted ones", async () => {
    const res = await raw.request(grpcRequestHeaders(unaryPath, { "grpc-encoding": "snappy" }), { body: [requestFrame({ message: "x" }, 1)] });
    assert.equal(res.headers["grpc-status"], String(Code.UNIMPLEMENTED));
    const message = decodeURIComponent(String(res.headers["grpc-message"]));
    assert.match(message, /snappy/);
    for (const name of ["gzip", "deflate"]) assert.ok(message.includes(name), `message ${JSON.stringify(message)} does not list ${name}`);
    const accepted = String(res.headers["grpc-accept-encoding"]).split(",").map((s) => s.trim());
    assert.ok(accepted.includes("gzip") && accepted.includes("deflate"), `grpc-accept-encoding ${accepted.join(",")}`);
    assert.ok(!accepted.includes("snappy"));
  });

  test("answers a compressed message without grpc-encoding with INTERNAL", async () => {
    const res = await raw.request(grpcRequestHeaders(unaryPath), { body: [requestFrame({ message: "x" }, 1, gzipSync)] });
    assert.equal(res.headers["grpc-status"] ?? res.trailers?.["grpc-status"], String(Code.INTERNAL));
  });

  test("answers a compressed message under grpc-encoding identity with INTERNAL", async () => {
    const res = await raw.request(grpcRequestHeaders(unaryPath, { "grpc-encoding": "identity" }), { body: [requestFrame({ message: "x" }, 1, gzipSync)] });
    assert.equal(res.headers["grpc-status"] ?? res.trailers?.["grpc-status"], String(Code.INTERNAL));
  });

  const corrupt: [string, string, Uint8Array][] = [
    ["gzip", "garbage", Buffer.from("this is not a gzip stream at all")],
    ["gzip", "truncated", gzipSync(toBinary(EchoRequestSchema, create(EchoRequestSchema, { message: compressible }))).subarray(0, 20)],
    ["deflate", "garbage", Buffer.from("this is not a zlib stream at all")],
    ["deflate", "gzip bytes under deflate", gzipSync(Buffer.from("x"))],
  ];
  for (const [encoding, what, payload] of corrupt) {
    test(`answers a corrupt ${encoding} payload (${what}) with INTERNAL, and keeps serving the connection`, async () => {
      const res = await raw.request(grpcRequestHeaders(unaryPath, { "grpc-encoding": encoding }), { body: [grpcFrame(payload, 1)] });
      assert.equal(res.headers["grpc-status"] ?? res.trailers?.["grpc-status"], String(Code.INTERNAL));
      const ok = await raw.request(grpcRequestHeaders(unaryPath), { body: [requestFrame({ message: "after" })] });
      assert.equal(ok.trailers?.["grpc-status"], "0");
    });
  }
});

describe("compression between the grpc-ts client and server", () => {
  let server: TestServer;
  const decompressed: string[] = [];
  const compressed: string[] = [];

  /** A codec that records what it did, to prove both ends really used it. */
  function recording(codec: Codec): Codec {
    return {
      name: codec.name,
      compress: (data) => {
        compressed.push(codec.name);
        return codec.compress(data);
      },
      decompress: (data, maxBytes) => {
        decompressed.push(codec.name);
        return codec.decompress(data, maxBytes);
      },
    };
  }

  before(async () => {
    server = await startServer((s) =>
      s.add(Echo, {
        ...echoService,
        unary(req, ctx) {
          ctx.setResponseCompression(req.failMessage);
          return { message: req.message };
        },
      }),
    );
  });
  after(() => server.close());

  for (const [requestEncoding, responseEncoding] of [["gzip", "deflate"], ["deflate", "gzip"], ["identity", "gzip"]]) {
    test(`sends ${requestEncoding} requests and reads ${responseEncoding} responses`, async () => {
      const channel = createChannel(server.target, credentials.insecure(), { codecs: new CodecRegistry([recording(gzipCodec), recording(deflateCodec)]) });
      try {
        compressed.length = 0;
        decompressed.length = 0;
        const res = await createClient(Echo, channel).unary({ message: compressible, failMessage: responseEncoding }, { compression: requestEncoding });
        assert.equal(res.message, compressible);
        assert.deepEqual(compressed, requestEncoding === "identity" ? [] : [requestEncoding]);
        assert.deepEqual(decompressed, [responseEncoding]);
      } finally {
        channel.close();
      }
    });
  }

  test("fails with UNIMPLEMENTED when the client compresses with an algorithm the server lacks", async () => {
    const snappy: Codec = { name: "snappy", compress: async (d) => d, decompress: async (d) => d };
    const channel = createChannel(server.target, credentials.insecure(), { codecs: new CodecRegistry([snappy]) });
    try {
      const err = await expectGrpcError(createClient(Echo, channel).unary({ message: "x", failMessage: "identity" }, { compression: "snappy" }), Code.UNIMPLEMENTED);
      assert.match(err.rawMessage, /gzip/);
      assert.match(err.rawMessage, /deflate/);
    } finally {
      channel.close();
    }
  });
});
