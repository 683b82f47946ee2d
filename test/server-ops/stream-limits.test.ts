/**
 * The Server's maxConcurrentStreams and maxHeaderListSize reach our h2 transport: they
 * are announced in its SETTINGS and enforced, a stream past the limit with
 * RST_STREAM(REFUSED_STREAM), an oversized request header list with HTTP 431 and
 * grpc-status RESOURCE_EXHAUSTED (which our channel reports as such).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, GrpcError, Metadata } from "../../src/index.js";
import { connectionPreface, SettingsId } from "../../src/protocol/http2/constants.js";
import { FrameClient, Http2ErrorCode } from "../h2-conformance/frame-client.js";
import { echoRequestBody, grpcRequestHeaders, startOpsServer, type OpsServer } from "./fixture.js";

/** Connects and returns the server's first SETTINGS as a map, after the usual exchange. */
async function connectReadingSettings(port: number): Promise<{ client: FrameClient; settings: Map<number, number> }> {
  const client = await FrameClient.connect(port, { handshake: false });
  client.send((w) => {
    w.bytes(connectionPreface);
    w.settings([]);
  });
  const frame = await client.waitFor((f) => (f.type === "SETTINGS" && !f.ack ? f : undefined));
  assert.ok(frame !== undefined, "no SETTINGS from the server");
  client.send((w) => w.settingsAck());
  await client.waitFor((f) => (f.type === "SETTINGS" && f.ack ? true : undefined));
  return { client, settings: new Map(frame.settings.map((s) => [s.id, s.value])) };
}

describe("maxConcurrentStreams", () => {
  let s: OpsServer;
  before(async () => {
    s = await startOpsServer({ maxConcurrentStreams: 2 });
  });
  after(() => s.close());

  test("is announced as SETTINGS_MAX_CONCURRENT_STREAMS and a stream beyond it gets RST_STREAM(REFUSED_STREAM)", async () => {
    const { client, settings } = await connectReadingSettings(s.port);
    try {
      assert.equal(settings.get(SettingsId.MAX_CONCURRENT_STREAMS), 2);
      // Two calls held open (no END_STREAM), then a third.
      client.sendHeaders(1, grpcRequestHeaders(), false);
      client.sendHeaders(3, grpcRequestHeaders(), false);
      client.sendHeaders(5, grpcRequestHeaders(), false);
      const outcome = await client.outcome();
      assert.deepEqual(outcome, { kind: "rst", streamId: 5, code: Http2ErrorCode.REFUSED_STREAM });
      // The two within the limit are served.
      client.send((w) => w.data(1, echoRequestBody({ message: "one" }), true));
      const res = await client.response(1);
      assert.equal(res.headers.at(-1)?.["grpc-status"], "0");
    } finally {
      client.close();
    }
  });

  test("our channel queues calls beyond the limit instead of failing them", async () => {
    const { client } = s.channel();
    const replies = await Promise.all(Array.from({ length: 6 }, (_, i) => client.unary({ message: `m${i}`, delayMs: 50 })));
    assert.deepEqual(replies.map((r) => r.message), ["m0", "m1", "m2", "m3", "m4", "m5"]);
  });
});

describe("maxHeaderListSize", () => {
  const limit = 2048;
  let s: OpsServer;
  before(async () => {
    s = await startOpsServer({ maxHeaderListSize: limit });
  });
  after(() => s.close());

  test("is announced as SETTINGS_MAX_HEADER_LIST_SIZE and a larger request header list is answered 431 with RESOURCE_EXHAUSTED", async () => {
    const { client, settings } = await connectReadingSettings(s.port);
    try {
      assert.equal(settings.get(SettingsId.MAX_HEADER_LIST_SIZE), limit);
      client.sendHeaders(1, { ...grpcRequestHeaders(), "x-big": "a".repeat(limit) }, true);
      const res = await client.response(1);
      assert.equal(res.headers[0]?.[":status"], "431");
      assert.equal(res.headers[0]?.["grpc-status"], String(Code.RESOURCE_EXHAUSTED));
      // A stream error only: the connection still serves calls within the limit.
      client.sendHeaders(3, grpcRequestHeaders(), false);
      client.send((w) => w.data(3, echoRequestBody({ message: "small" }), true));
      const ok = await client.response(3);
      assert.equal(ok.headers.at(-1)?.["grpc-status"], "0");
    } finally {
      client.close();
    }
  });

  test("a call from our channel with metadata over the limit fails RESOURCE_EXHAUSTED; one under it succeeds", async () => {
    const { client } = s.channel();
    const big = new Metadata();
    big.set("x-big", "b".repeat(limit));
    await assert.rejects(client.unary({ message: "big" }, { metadata: big }), (err: unknown) => {
      assert.ok(err instanceof GrpcError);
      assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
      return true;
    });
    const small = new Metadata();
    small.set("x-small", "s".repeat(100));
    assert.equal((await client.unary({ message: "small" }, { metadata: small })).message, "small");
  });
});
