/**
 * Streamed messages arrive intact and in order when the transport has to hold them:
 * the server encodes small responses into a scratch buffer that the next message
 * reuses, so whatever the transport keeps (a client that reads slowly, windows spent,
 * a congested socket) it must have copied. Each message carries its index in every
 * byte, a slow reader forces queueing, and both our client and @grpc/grpc-js check
 * every byte; unary responses held back by a tiny stream window are checked with a
 * frame-level client.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ServiceImpl } from "../src/index.js";
import { createChannel, createClient, credentials } from "../src/index.js";
import { Echo } from "./gen/echo_pb.js";
import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { SettingsId } from "../src/protocol/http2/constants.js";
import { encodeFrame } from "../src/protocol/frame.js";
import { FrameClient, requestHeaders } from "./h2-conformance/frame-client.js";
import { EchoRequestSchema, EchoResponseSchema } from "./gen/echo_pb.js";
import { createJsClient, type JsEchoResponse } from "./helpers/grpc-js.js";
import { startServer, testTransport, type TestServer } from "./helpers/server.js";

const count = 600;
/** Under the encoder's scratch limit (4 KiB frames), and 600 of them exceed every window. */
const size = 3000;

function expectedPayload(index: number): Uint8Array {
  return new Uint8Array(size).fill(index % 251);
}

function checkMessage(index: number, got: { index: number; payload: Uint8Array }): void {
  assert.equal(got.index, index);
  assert.equal(got.payload.length, size, `message ${index}: ${got.payload.length} bytes`);
  const want = index % 251;
  for (let i = 0; i < size; i++) {
    if (got.payload[i] !== want) assert.fail(`message ${index}: byte ${i} is ${got.payload[i]}, expected ${want}`);
  }
}

const impl: Partial<ServiceImpl<typeof Echo>> = {
  unary(request) {
    return { index: request.count, message: "m", payload: expectedPayload(request.count) };
  },
  async *serverStream(request) {
    for (let index = 0; index < request.count; index++) yield { index, message: "m", payload: expectedPayload(index) };
  },
  async *bidi(requests) {
    for await (const request of requests) yield { index: request.count, message: "m", payload: expectedPayload(request.count) };
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("streamed messages stay intact while the transport holds them", () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((s) => s.add(Echo, impl as ServiceImpl<typeof Echo>));
  });
  after(() => server.close());

  test("a slow grpc-ts reader gets every server-streamed message byte for byte", async () => {
    const channel = createChannel(server.target, credentials.insecure(), { transport: testTransport });
    try {
      const client = createClient(Echo, channel);
      let index = 0;
      for await (const res of client.serverStream({ count })) {
        // Read slowly at first, so the server's writes wait for window.
        if (index < 5) await sleep(50);
        checkMessage(index++, res);
      }
      assert.equal(index, count);
    } finally {
      channel.close();
    }
  });

  test("a slow @grpc/grpc-js reader gets every server-streamed message byte for byte", async () => {
    const client = createJsClient(server.target);
    try {
      const call = client.serverStream({ message: "", payload: Buffer.alloc(0), count, delayMs: 0 }, new grpc.Metadata(), {});
      call.pause();
      await sleep(200);
      let index = 0;
      await new Promise<void>((resolve, reject) => {
        call.on("data", (res: JsEchoResponse) => {
          try {
            checkMessage(index++, { index: res.index, payload: res.payload });
          } catch (err) {
            reject(err);
          }
        });
        call.on("error", reject);
        call.on("end", resolve);
        call.resume();
      });
      assert.equal(index, count);
    } finally {
      client.close();
    }
  });

  test("bidi echoes written while the reader is slow arrive intact", async () => {
    const channel = createChannel(server.target, credentials.insecure(), { transport: testTransport });
    try {
      const client = createClient(Echo, channel);
      async function* requests() {
        for (let i = 0; i < count; i++) yield { count: i };
      }
      let index = 0;
      for await (const res of client.bidi(requests())) {
        if (index % 100 === 0) await sleep(30);
        checkMessage(index++, res);
      }
      assert.equal(index, count);
    } finally {
      channel.close();
    }
  });

  test("unary responses held back by a tiny stream window arrive intact", async () => {
    // 16 bytes of window per stream: every response but its first bytes waits, while the
    // next calls' responses are encoded.
    const client = await FrameClient.connect(server.port, { settings: [{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 16 }] });
    try {
      const calls = 20;
      const ids = Array.from({ length: calls }, (_, i) => 1 + 2 * i);
      for (const [i, id] of ids.entries()) {
        const body = encodeFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { count: i })));
        client.sendHeaders(id, requestHeaders("/grpcts.test.Echo/Unary"), false);
        client.send((w) => w.data(id, body, true));
      }
      await sleep(200);
      client.send((w) => {
        for (const id of ids) w.windowUpdate(id, 1 << 20);
      });
      const bodies = new Map<number, Uint8Array[]>(ids.map((id) => [id, []]));
      let ended = 0;
      while (ended < calls) {
        const f = await client.next(5000);
        assert.ok(f !== undefined, `${ended} of ${calls} responses ended`);
        if (f.type === "DATA") bodies.get(f.streamId)?.push(f.data.slice());
        if (f.type === "HEADERS") {
          client.decoder.decode(f.fragment);
          if (f.endStream) ended++;
        }
      }
      for (const [i, id] of ids.entries()) {
        const chunks = bodies.get(id)!;
        const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        let at = 0;
        for (const c of chunks) {
          bytes.set(c, at);
          at += c.length;
        }
        assert.equal(bytes.length, 5 + new DataView(bytes.buffer).getUint32(1), `stream ${id}: one whole gRPC frame`);
        checkMessage(i, fromBinary(EchoResponseSchema, bytes.subarray(5)));
      }
    } finally {
      client.close();
    }
  });
});
