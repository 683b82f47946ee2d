/**
 * gRPC over our own HTTP/2 transport against @grpc/grpc-js: its client against our
 * server ({ transport: "h2" }) and our client against its server, for every call type,
 * messages of 600 KB, metadata large enough for CONTINUATION frames, and error status.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, GrpcError, Metadata, Server, createChannel, createClient, credentials, type Channel, type Client } from "../../src/index.js";
import { Echo } from "../gen/echo_pb.js";
import { createJsClient, grpc, jsClientStream, jsCollect, jsUnary, startJsServer, type JsEchoClient, type JsServer } from "../helpers/grpc-js.js";
import { echoService } from "../helpers/server.js";

const big = new Uint8Array(600_000).map((_, i) => (i * 7) & 0xff);
const bigMetadataValue = "m".repeat(30_000);

describe("a grpc-js client against our server on the h2 transport", () => {
  let server: Server;
  let client: JsEchoClient;

  before(async () => {
    server = new Server({ transport: "h2", maxHeaderListSize: 128 * 1024 });
    server.add(Echo, {
      ...echoService,
      async unary(req, ctx) {
        const echoed = ctx.requestMetadata.getString("x-big");
        if (echoed !== undefined) ctx.responseTrailer.set("x-big-echo", echoed);
        return echoService.unary(req, ctx);
      },
    });
    const address = await server.listen("127.0.0.1:0");
    client = createJsClient(`127.0.0.1:${(address as { port: number }).port}`, {
      "grpc.max_receive_message_length": 8 * 1024 * 1024,
      "grpc.max_metadata_size": 128 * 1024,
    });
  });
  after(async () => {
    client.close();
    server.forceShutdown();
    await server.shutdown({ graceMs: 0 });
  });

  test("unary with a 600 KB payload", async () => {
    const { response, status } = await jsUnary(client, { message: "big", payload: Buffer.from(big) }).result;
    assert.equal(status.code, grpc.status.OK);
    assert.equal(response.message, "big");
    assert.ok(Buffer.from(big).equals(response.payload));
  });

  test("metadata of 30 KB goes both ways (HEADERS + CONTINUATION)", async () => {
    const md = new grpc.Metadata();
    md.set("x-big", bigMetadataValue);
    const { status } = await jsUnary(client, { message: "md" }, md).result;
    assert.equal(status.metadata.get("x-big-echo")[0], bigMetadataValue);
  });

  test("server streaming delivers every message", async () => {
    const { response } = await jsCollect(client.serverStream({ message: "s", count: 50, payload: Buffer.alloc(20_000, 1) }, new grpc.Metadata(), {}));
    assert.deepEqual(response.map((r) => r.index), Array.from({ length: 50 }, (_, i) => i));
  });

  test("client streaming with 600 KB of messages", async () => {
    const { call, result } = jsClientStream(client);
    for (let i = 0; i < 6; i++) call.write({ message: `m${i}`, payload: Buffer.alloc(100_000, i) });
    call.end();
    const { response } = await result;
    assert.equal(response.message, "m0,m1,m2,m3,m4,m5");
    assert.equal(response.index, 6);
  });

  test("bidi streaming echoes in order", async () => {
    const call = client.bidi(new grpc.Metadata(), {});
    const done = jsCollect(call);
    for (let i = 0; i < 20; i++) call.write({ message: `b${i}` });
    call.end();
    const { response } = await done;
    assert.deepEqual(response.map((r) => r.message), Array.from({ length: 20 }, (_, i) => `b${i}`));
  });

  test("an error status reaches the grpc-js client", async () => {
    await assert.rejects(jsUnary(client, { failCode: Code.PERMISSION_DENIED, failMessage: "no, 100% not" }).result, (err: grpc.ServiceError) => {
      assert.equal(err.code, grpc.status.PERMISSION_DENIED);
      assert.equal(err.details, "no, 100% not");
      return true;
    });
  });
});

describe("our client on the h2 transport against a grpc-js server", () => {
  let js: JsServer;
  let channel: Channel;
  let client: Client<typeof Echo>;

  before(async () => {
    js = await startJsServer({
      unary: (call, callback) => {
        const echoed = call.metadata.get("x-big")[0];
        const trailer = new grpc.Metadata();
        if (typeof echoed === "string") trailer.set("x-big-echo", echoed);
        if (call.request.failCode !== 0) {
          callback({ code: call.request.failCode, details: call.request.failMessage });
          return;
        }
        callback(null, { message: call.request.message, payload: call.request.payload, index: 0 }, trailer);
      },
      serverStream: (call) => {
        for (let i = 0; i < call.request.count; i++) call.write({ message: call.request.message, payload: call.request.payload, index: i });
        call.end();
      },
      clientStream: (call, callback) => {
        const messages: string[] = [];
        call.on("data", (m: { message: string }) => messages.push(m.message));
        call.on("end", () => callback(null, { message: messages.join(","), payload: Buffer.alloc(0), index: messages.length }));
      },
      bidi: (call) => {
        let i = 0;
        call.on("data", (m: { message: string }) => call.write({ message: m.message, payload: Buffer.alloc(0), index: i++ }));
        call.on("end", () => call.end());
      },
    }, { "grpc.max_receive_message_length": 8 * 1024 * 1024, "grpc.max_metadata_size": 128 * 1024 });
    channel = createChannel(js.target, credentials.insecure(), { transport: "h2" });
    client = createClient(Echo, channel);
  });
  after(() => {
    channel.close();
    js.close();
  });

  test("unary with a 600 KB payload", async () => {
    const res = await client.unary({ message: "big", payload: big });
    assert.equal(res.message, "big");
    assert.deepEqual(res.payload, big);
  });

  test("metadata of 30 KB goes both ways (HEADERS + CONTINUATION)", async () => {
    let trailer: Metadata | undefined;
    await client.unary({ message: "md" }, { metadata: new Metadata().set("x-big", bigMetadataValue), onTrailer: (t) => (trailer = t) });
    assert.equal(trailer?.getString("x-big-echo"), bigMetadataValue);
  });

  test("server streaming delivers every message", async () => {
    const got: number[] = [];
    for await (const res of client.serverStream({ message: "s", count: 50, payload: new Uint8Array(20_000) })) got.push(res.index);
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
  });

  test("client streaming with 600 KB of messages", async () => {
    async function* requests() {
      for (let i = 0; i < 6; i++) yield { message: `m${i}`, payload: new Uint8Array(100_000).fill(i) };
    }
    const res = await client.clientStream(requests());
    assert.equal(res.message, "m0,m1,m2,m3,m4,m5");
  });

  test("bidi streaming echoes in order", async () => {
    async function* requests() {
      for (let i = 0; i < 20; i++) yield { message: `b${i}` };
    }
    const got: string[] = [];
    for await (const res of client.bidi(requests())) got.push(res.message);
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `b${i}`));
  });

  test("an error status reaches our client", async () => {
    await assert.rejects(client.unary({ failCode: Code.NOT_FOUND, failMessage: "nothing here" }), (err: unknown) => {
      assert.ok(err instanceof GrpcError);
      assert.equal(err.code, Code.NOT_FOUND);
      assert.equal(err.rawMessage, "nothing here");
      return true;
    });
  });
});
