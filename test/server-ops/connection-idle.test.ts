/**
 * MAX_CONNECTION_IDLE (gRFC A9) on our h2 transport: a connection with no call open for
 * maxConnectionIdleMs gets the two-phase GOAWAY(NO_ERROR, "max_idle") and closes; a
 * call in progress holds it open, and the idle time counts from the end of the last
 * call. Our channel simply reconnects for the next call.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { FrameClient, Http2ErrorCode } from "../h2-conformance/frame-client.js";
import { echoRequestBody, grpcRequestHeaders, startOpsServer, type OpsServer } from "./fixture.js";

const decoder = new TextDecoder();
const idleMs = 300;

describe("max connection idle", () => {
  let s: OpsServer;
  before(async () => {
    s = await startOpsServer({ maxConnectionIdleMs: idleMs });
  });
  after(() => s.close());

  test("a connection without calls for maxConnectionIdleMs gets GOAWAY(NO_ERROR, max_idle) in two phases and is closed", async () => {
    const connectedAt = performance.now();
    const client = await FrameClient.connect(s.port);
    try {
      const first = await client.waitFor((f) => (f.type === "GOAWAY" ? f : undefined), 5000);
      const elapsedMs = performance.now() - connectedAt;
      assert.ok(first !== undefined, "no GOAWAY");
      assert.ok(elapsedMs >= idleMs - 5, `GOAWAY after ${elapsedMs.toFixed(0)} ms`);
      assert.equal(first.lastStreamId, 2 ** 31 - 1);
      assert.equal(first.errorCode, Http2ErrorCode.NO_ERROR);
      assert.equal(decoder.decode(first.debugData), "max_idle");
      const ping = await client.waitFor((f) => (f.type === "PING" && !f.ack ? f : undefined));
      assert.ok(ping !== undefined, "a PING follows the first GOAWAY");
      client.send((w) => w.ping(ping.opaqueData, true));
      const second = await client.waitFor((f) => (f.type === "GOAWAY" ? f : undefined));
      assert.equal(second?.lastStreamId, 0);
      assert.equal(decoder.decode(second!.debugData), "max_idle");
      await client.waitFor(() => undefined, 3000);
      assert.equal(client.closed, true);
    } finally {
      client.close();
    }
  });

  test("a call longer than maxConnectionIdleMs keeps the connection; the idle time counts from the end of the call", async () => {
    const client = await FrameClient.connect(s.port);
    try {
      client.sendHeaders(1, grpcRequestHeaders(), false);
      client.send((w) => w.data(1, echoRequestBody({ message: "busy", delayMs: 2 * idleMs }), true));
      const res = await client.response(1, 5000);
      const endedAt = performance.now();
      assert.ok(res.ended, "the call completes without the connection going away");
      assert.equal(res.headers.at(-1)?.["grpc-status"], "0");
      const goaway = await client.waitFor((f) => (f.type === "GOAWAY" ? f : undefined), 5000);
      const idleForMs = performance.now() - endedAt;
      assert.equal(goaway !== undefined && decoder.decode(goaway.debugData), "max_idle");
      // The first GOAWAY of the two: none came (and was skipped by response()) during the call.
      assert.equal(goaway?.lastStreamId, 2 ** 31 - 1);
      // Counted from the end of the call, not its start (that would give ~0 here). The server
      // saw the call end before we read its trailers, by up to a busy loop's delay: slack.
      assert.ok(idleForMs >= idleMs / 2, `GOAWAY ${idleForMs.toFixed(0)} ms after the call ended`);
    } finally {
      client.close();
    }
  });

  test("our channel reconnects after an idle GOAWAY and the next call succeeds", async () => {
    const { client } = s.channel();
    const before = s.peers.length;
    assert.equal((await client.unary({ message: "one" })).message, "one");
    await sleep(idleMs + 400);
    assert.equal((await client.unary({ message: "two" })).message, "two");
    const [first, second] = s.peers.slice(before);
    assert.ok(first !== undefined && second !== undefined);
    assert.notEqual(first, second, "the idle connection should have been replaced");
  });
});
