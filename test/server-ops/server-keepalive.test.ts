/**
 * Server keepalive on our h2 transport: after keepaliveTimeMs with nothing received the
 * server PINGs the client; no answer within keepaliveTimeoutMs closes the connection and
 * cancels its calls (handlers see CANCELLED). A client that answers, or keeps sending,
 * keeps its connection.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "../../src/index.js";
import { FrameClient } from "../h2-conformance/frame-client.js";
import { echoRequestBody, grpcRequestHeaders, startOpsServer, type OpsServer } from "./fixture.js";

const keepaliveTimeMs = 200;
const keepaliveTimeoutMs = 200;

describe("server keepalive", () => {
  let s: OpsServer;
  before(async () => {
    s = await startOpsServer({ keepaliveTimeMs, keepaliveTimeoutMs });
  });
  after(() => s.close());

  test("PINGs a quiet connection and closes it when the PING is not answered in time; the running call's handler sees CANCELLED", async () => {
    const client = await FrameClient.connect(s.port);
    try {
      const started = s.nextCall();
      client.sendHeaders(1, grpcRequestHeaders(), false);
      client.send((w) => w.data(1, echoRequestBody({ message: "held", delayMs: 60_000 }), true));
      await started;
      const cancelledBefore = s.cancelled.length;
      // (No lower bound on when: on a busy loop the server's timer can run before it reads
      // bytes already sent, and then the connection was quiet as far as it could tell.)
      const ping = await client.waitFor((f) => (f.type === "PING" && !f.ack ? f : undefined), 5000);
      assert.ok(ping !== undefined, "no keepalive PING");
      // Not answered: the connection goes.
      const pingedAt = performance.now();
      await client.waitFor(() => undefined, 5000);
      const closedAfterMs = performance.now() - pingedAt;
      assert.equal(client.closed, true);
      assert.ok(closedAfterMs < keepaliveTimeoutMs + 2_000, `closed ${closedAfterMs.toFixed(0)} ms after the PING`);
      for (let i = 0; i < 50 && s.cancelled.length === cancelledBefore; i++) await sleep(10);
      assert.deepEqual(s.cancelled.slice(cancelledBefore), [Code.CANCELLED]);
    } finally {
      client.close();
    }
  });

  test("a client that answers each PING keeps its connection, pinged again after each quiet keepaliveTimeMs", async () => {
    const client = await FrameClient.connect(s.port);
    try {
      let pings = 0;
      const until = performance.now() + 5 * keepaliveTimeMs;
      while (performance.now() < until) {
        const ping = await client.waitFor((f) => (f.type === "PING" && !f.ack ? f : undefined), Math.max(1, until - performance.now()));
        if (ping === undefined) break;
        pings++;
        client.send((w) => w.ping(ping.opaqueData, true));
      }
      assert.equal(client.closed, false);
      // Quiet but answering: about one PING per keepaliveTimeMs (loosely, for slow machines).
      assert.ok(pings >= 2 && pings <= 8, `${pings} PINGs in ${5 * keepaliveTimeMs} ms`);
      client.sendHeaders(1, grpcRequestHeaders(), false);
      client.send((w) => w.data(1, echoRequestBody({ message: "still here" }), true));
      const res = await client.response(1);
      assert.ok(res.ended && res.body > 0, "the connection still serves calls");
    } finally {
      client.close();
    }
  });

  test("does not PING a connection that keeps sending", async () => {
    const client = await FrameClient.connect(s.port);
    try {
      const sendUntil = performance.now() + 5 * keepaliveTimeMs;
      let pinged = false;
      while (performance.now() < sendUntil && !pinged) {
        client.send((w) => w.windowUpdate(0, 1));
        pinged = (await client.waitFor((f) => (f.type === "PING" && !f.ack ? true : undefined), keepaliveTimeMs / 4)) === true;
      }
      assert.equal(pinged, false, "a PING came although bytes kept arriving");
      // Once it goes quiet, the PING comes.
      const ping = await client.waitFor((f) => (f.type === "PING" && !f.ack ? f : undefined), 5000);
      assert.ok(ping !== undefined, "no PING after the client went quiet");
    } finally {
      client.close();
    }
  });

  test("our channel answers the server's PINGs: a call much longer than keepaliveTimeMs succeeds", async () => {
    const { client } = s.channel();
    const reply = await client.unary({ message: "long", delayMs: 6 * keepaliveTimeMs }, { timeoutMs: 10_000 });
    assert.equal(reply.message, "long");
  });
});
