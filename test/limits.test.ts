/**
 * Message size limits: 4 MiB received by default on both sides, configurable on each;
 * the limit applies to the message (not the 5-byte frame) and to its decompressed
 * size; send limits fail a call before the message leaves. After each failure the
 * connection goes on serving calls.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as zlib from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import {
  Code, CodecRegistry, GrpcError, createChannel, createClient, credentials, deflateCodec, gzipCodec,
  type Channel, type ChannelOptions, type Client, type Codec, type ServerOptions, type ServiceImpl,
} from "../src/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "./gen/echo_pb.js";
import { connectRawClient, grpcFrame, grpcRequestHeaders, readRequestBody, respondGrpc, startRawServer, type RawServer } from "./helpers/raw-http2.js";
import { echoService, startServer, type TestServer } from "./helpers/server.js";

const MiB = 1024 * 1024;

function varintBytes(n: number): number {
  let bytes = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    bytes++;
  }
  return bytes;
}

/**
 * A payload that makes EchoRequest{payload} (and EchoResponse{payload}, same field
 * number) exactly `messageBytes` long: 1 tag byte + the length varint + the payload.
 */
function payloadForMessageBytes(messageBytes: number): Uint8Array {
  for (let lengthBytes = 1; lengthBytes <= 5; lengthBytes++) {
    const n = messageBytes - 1 - lengthBytes;
    if (n >= 0 && varintBytes(n) === lengthBytes) {
      const payload = new Uint8Array(n).fill(0x61);
      assert.equal(toBinary(EchoRequestSchema, create(EchoRequestSchema, { payload })).length, messageBytes);
      assert.equal(toBinary(EchoResponseSchema, create(EchoResponseSchema, { payload })).length, messageBytes);
      return payload;
    }
  }
  throw new Error(`no payload gives a ${messageBytes}-byte message`);
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

/**
 * A zlib ("deflate" in gRPC) stream of `mib` MiB of zeros, built without ever holding
 * them: one raw-deflate block of 1 MiB of zeros ends in a full flush, which resets the
 * window, so copies of it can be chained; then the final block and the Adler-32
 * (a = 1, b = length mod 65521 for all-zero input).
 */
function deflateBomb(mib: number): Buffer {
  const block = zlib.deflateRawSync(Buffer.alloc(MiB), { finishFlush: zlib.constants.Z_FULL_FLUSH });
  const finalBlock = zlib.deflateRawSync(Buffer.alloc(0));
  const adler32 = Buffer.alloc(4);
  adler32.writeUInt32BE((((mib * MiB) % 65521) * 65536 + 1) >>> 0);
  return Buffer.concat([Buffer.of(0x78, 0x9c), ...Array<Buffer>(mib).fill(block), finalBlock, adler32]);
}

/** Echo, plus: "peer" answers with the caller's address; count > 0 answers with a count-byte message. */
const limitsService: ServiceImpl<typeof Echo> = {
  ...echoService,
  unary(req, ctx) {
    if (req.message === "peer") return { message: ctx.peer.address };
    if (req.count > 0) return { payload: payloadForMessageBytes(req.count) };
    return { payload: req.payload };
  },
  async *serverStream(req) {
    yield { message: "small" };
    yield { payload: payloadForMessageBytes(req.count) };
  },
};

interface Env {
  server: TestServer;
  channel: Channel;
  client: Client<typeof Echo>;
  close(): Promise<void>;
}

async function startEnv(serverOptions?: ServerOptions, channelOptions?: ChannelOptions): Promise<Env> {
  const server = await startServer((s) => s.add(Echo, limitsService), serverOptions);
  const channel = createChannel(server.target, credentials.insecure(), channelOptions);
  return {
    server,
    channel,
    client: createClient(Echo, channel),
    close: async () => {
      channel.close();
      await server.close();
    },
  };
}

/** The connection's client address as the server sees it: unchanged means the same connection. */
async function peerOf(env: Env): Promise<string> {
  return (await env.client.unary({ message: "peer" })).message;
}

describe("default 4 MiB receive limit", () => {
  let env: Env;
  before(async () => {
    env = await startEnv();
  });
  after(() => env.close());

  test("the server accepts a request message of exactly 4 MiB (a 4 MiB + 5 byte frame)", async () => {
    const payload = payloadForMessageBytes(4 * MiB);
    const res = await env.client.unary({ payload });
    assert.equal(res.payload.length, payload.length);
  });

  test("the server rejects a request message of 4 MiB + 1 with RESOURCE_EXHAUSTED, and serves the next call on the same connection", async () => {
    const peer = await peerOf(env);
    const err = await expectGrpcError(env.client.unary({ payload: payloadForMessageBytes(4 * MiB + 1) }), Code.RESOURCE_EXHAUSTED);
    assert.match(err.rawMessage, /4194305/);
    assert.equal(await peerOf(env), peer);
  });

  test("the client accepts a response message of exactly 4 MiB", async () => {
    const res = await env.client.unary({ count: 4 * MiB });
    assert.equal(res.payload.length, payloadForMessageBytes(4 * MiB).length);
  });

  test("the client rejects a response message of 4 MiB + 1 with RESOURCE_EXHAUSTED, and the connection serves the next call", async () => {
    const peer = await peerOf(env);
    await expectGrpcError(env.client.unary({ count: 4 * MiB + 1 }), Code.RESOURCE_EXHAUSTED);
    assert.equal(await peerOf(env), peer);
  });

  test("the client fails a stream at the first oversized message, after the ones before it", async () => {
    const got: string[] = [];
    await expectGrpcError((async () => {
      for await (const res of env.client.serverStream({ count: 4 * MiB + 1 })) got.push(res.message);
    })(), Code.RESOURCE_EXHAUSTED);
    assert.deepEqual(got, ["small"]);
  });
});

describe("configured receive limits", () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ maxReceiveMessageBytes: 1024 }, { maxReceiveMessageBytes: 2048 });
  });
  after(() => env.close());

  test("the server accepts exactly its configured limit and rejects one byte more", async () => {
    assert.equal((await env.client.unary({ payload: payloadForMessageBytes(1024) })).payload.length, payloadForMessageBytes(1024).length);
    const peer = await peerOf(env);
    await expectGrpcError(env.client.unary({ payload: payloadForMessageBytes(1025) }), Code.RESOURCE_EXHAUSTED);
    assert.equal(await peerOf(env), peer);
  });

  test("the client accepts exactly the channel's limit and rejects one byte more", async () => {
    assert.equal((await env.client.unary({ count: 2048 })).payload.length, payloadForMessageBytes(2048).length);
    await expectGrpcError(env.client.unary({ count: 2049 }), Code.RESOURCE_EXHAUSTED);
  });

  test("a call's maxReceiveMessageBytes overrides the channel's, lower or higher", async () => {
    await expectGrpcError(env.client.unary({ count: 1001 }, { maxReceiveMessageBytes: 1000 }), Code.RESOURCE_EXHAUSTED);
    assert.equal((await env.client.unary({ count: 3000 }, { maxReceiveMessageBytes: 3000 })).payload.length, payloadForMessageBytes(3000).length);
  });
});

describe("limits raised above the default", () => {
  let env: Env;
  before(async () => {
    env = await startEnv({ maxReceiveMessageBytes: 8 * MiB }, { maxReceiveMessageBytes: 8 * MiB });
  });
  after(() => env.close());

  test("a 5 MiB request and a 5 MiB response pass both ends", async () => {
    const payload = payloadForMessageBytes(5 * MiB);
    assert.equal((await env.client.unary({ payload })).payload.length, payload.length);
    assert.equal((await env.client.unary({ count: 5 * MiB })).payload.length, payload.length);
  });
});

describe("limits apply to the decompressed size", () => {
  const bomb = deflateBomb(1024);

  test("the bomb is a valid zlib stream (checked on a 4 MiB instance) and 1 GiB fits in about 1 MiB", () => {
    const small = zlib.inflateSync(deflateBomb(4));
    assert.equal(small.length, 4 * MiB);
    assert.ok(small.every((b) => b === 0));
    assert.ok(bomb.length < 2 * MiB, `bomb is ${bomb.length} bytes`);
  });

  test("the server rejects a compressed request whose decompressed size passes the limit with RESOURCE_EXHAUSTED, without inflating it", async () => {
    const limits: number[] = [];
    const recordingDeflate: Codec = {
      name: "deflate",
      compress: (data) => deflateCodec.compress(data),
      decompress: (data, maxBytes) => {
        limits.push(maxBytes);
        return deflateCodec.decompress(data, maxBytes);
      },
    };
    const server = await startServer((s) => s.add(Echo, limitsService), { maxReceiveMessageBytes: 2 * MiB, codecs: new CodecRegistry([gzipCodec, recordingDeflate]) });
    const raw = await connectRawClient(server.port);
    try {
      const rssBefore = process.memoryUsage().rss;
      const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/Unary", { "grpc-encoding": "deflate" }), { body: [grpcFrame(bomb, 1)] });
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      assert.equal(res.headers["grpc-status"] ?? res.trailers?.["grpc-status"], String(Code.RESOURCE_EXHAUSTED));
      assert.ok(bomb.length < 2 * MiB, "the compressed frame itself is within the limit");
      assert.deepEqual(limits, [2 * MiB], "the codec must be handed the receive limit");
      // Inflating the bomb in full would take at least 1 GiB.
      assert.ok(rssGrowth < 256 * MiB, `memory grew by ${Math.round(rssGrowth / MiB)} MiB`);
      const ok = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/Unary"), { body: [grpcFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { message: "after" })))] });
      assert.equal(ok.trailers?.["grpc-status"], "0");
    } finally {
      await raw.close();
      await server.close();
    }
  });

  test("the client rejects a compressed response whose decompressed size passes the limit with RESOURCE_EXHAUSTED", async () => {
    const raw: RawServer = await startRawServer((stream) => {
      void readRequestBody(stream).then(() => respondGrpc(stream, { headers: { "grpc-encoding": "deflate" }, body: [grpcFrame(bomb, 1)] }));
    });
    const channel = createChannel(raw.target, credentials.insecure());
    try {
      const rssBefore = process.memoryUsage().rss;
      await expectGrpcError(createClient(Echo, channel).unary({ message: "x" }), Code.RESOURCE_EXHAUSTED);
      const rssGrowth = process.memoryUsage().rss - rssBefore;
      assert.ok(rssGrowth < 256 * MiB, `memory grew by ${Math.round(rssGrowth / MiB)} MiB`);
    } finally {
      channel.close();
      await raw.close();
    }
  });

  test("a compressed request under the limit once decompressed is accepted", async () => {
    const server = await startServer((s) => s.add(Echo, limitsService), { maxReceiveMessageBytes: 2 * MiB });
    const channel = createChannel(server.target, credentials.insecure(), { compression: "gzip" });
    try {
      const payload = payloadForMessageBytes(2 * MiB);
      // Compresses to a few KiB, but the limit is checked on the 2 MiB it inflates to.
      assert.equal((await createClient(Echo, channel).unary({ payload })).payload.length, payload.length);
      await expectGrpcError(createClient(Echo, channel).unary({ payload: payloadForMessageBytes(2 * MiB + 1) }), Code.RESOURCE_EXHAUSTED);
    } finally {
      channel.close();
      await server.close();
    }
  });
});

describe("send limits", () => {
  test("the client fails a request over maxSendMessageBytes with RESOURCE_EXHAUSTED without sending it", async () => {
    const bodies: number[] = [];
    const raw = await startRawServer((stream) => {
      void readRequestBody(stream).then((body) => {
        bodies.push(body.length);
        return respondGrpc(stream, { body: [grpcFrame(toBinary(EchoResponseSchema, create(EchoResponseSchema, { message: "ok" })))] });
      });
    });
    const channel = createChannel(raw.target, credentials.insecure(), { maxSendMessageBytes: 1024 });
    try {
      const client = createClient(Echo, channel);
      await expectGrpcError(client.unary({ payload: payloadForMessageBytes(1025) }), Code.RESOURCE_EXHAUSTED);
      assert.equal((await client.unary({ payload: payloadForMessageBytes(1024) })).message, "ok");
      // The refused call's stream (if it was opened at all) carried no DATA; the accepted one carried 1024 + 5 bytes.
      assert.deepEqual(bodies.filter((n) => n !== 0), [1029]);
    } finally {
      channel.close();
      await raw.close();
    }
  });

  test("the server fails a response over maxSendMessageBytes with RESOURCE_EXHAUSTED without sending it, and serves the next call", async () => {
    const env = await startEnv({ maxSendMessageBytes: 1024 });
    const raw = await connectRawClient(env.server.port);
    try {
      assert.equal((await env.client.unary({ count: 1024 })).payload.length, payloadForMessageBytes(1024).length);
      const peer = await peerOf(env);
      await expectGrpcError(env.client.unary({ count: 1025 }), Code.RESOURCE_EXHAUSTED);
      assert.equal(await peerOf(env), peer);
      const res = await raw.request(grpcRequestHeaders("/grpcts.test.Echo/Unary"), {
        body: [grpcFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { count: 1025 })))],
      });
      assert.equal(res.headers["grpc-status"] ?? res.trailers?.["grpc-status"], String(Code.RESOURCE_EXHAUSTED));
      assert.equal(res.body.length, 0);
    } finally {
      await raw.close();
      await env.close();
    }
  });

  test("the server fails a stream at its first oversized response, after the messages before it", async () => {
    const env = await startEnv({ maxSendMessageBytes: 1024 });
    try {
      const got: string[] = [];
      await expectGrpcError((async () => {
        for await (const res of env.client.serverStream({ count: 1025 })) got.push(res.message);
      })(), Code.RESOURCE_EXHAUSTED);
      assert.deepEqual(got, ["small"]);
    } finally {
      await env.close();
    }
  });
});
