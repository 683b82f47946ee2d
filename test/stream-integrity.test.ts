/**
 * Streamed messages arrive intact and in order when the transport has to hold them:
 * the server encodes small responses into a scratch buffer that the next message
 * reuses, so whatever the transport keeps (a client that reads slowly, windows spent,
 * a congested socket) it must have copied. Each message carries its index in every
 * byte, a slow reader forces queueing, and both our client and @grpc/grpc-js check
 * every byte.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { ServiceImpl } from "../src/index.js";
import { createChannel, createClient, credentials } from "../src/index.js";
import { Echo } from "./gen/echo_pb.js";
import * as grpc from "@grpc/grpc-js";
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
});
