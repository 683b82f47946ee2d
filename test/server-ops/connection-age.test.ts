/**
 * MAX_CONNECTION_AGE and its grace (gRFC A9) on our h2 transport: an old connection
 * gets the two-phase GOAWAY(NO_ERROR, "max_age") (2^31-1 and a PING, then the real last
 * stream id), running calls finish, and with maxConnectionAgeGraceMs the ones still
 * running after the grace are cancelled. Our channel reconnects without failing a call,
 * even under load across many age cycles.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Code, GrpcError } from "../../src/index.js";
import { FrameClient, Http2ErrorCode } from "../h2-conformance/frame-client.js";
import { echoRequestBody, grpcRequestHeaders, startOpsServer, type OpsServer } from "./fixture.js";

const decoder = new TextDecoder();

describe("max connection age on the wire", () => {
  const ageMs = 300;
  let s: OpsServer;
  before(async () => {
    s = await startOpsServer({ maxConnectionAgeMs: ageMs });
  });
  after(() => s.close());

  test("sends GOAWAY(2^31-1, NO_ERROR, max_age) and a PING after maxConnectionAgeMs ±10 %, then GOAWAY(last stream); the running call finishes", async () => {
    const connectedAt = performance.now();
    const client = await FrameClient.connect(s.port);
    try {
      client.sendHeaders(1, grpcRequestHeaders(), false);
      client.send((w) => w.data(1, echoRequestBody({ message: "old", delayMs: 800 }), true));
      const first = await client.waitFor((f) => (f.type === "GOAWAY" ? f : undefined), 5000);
      const elapsedMs = performance.now() - connectedAt;
      assert.ok(first !== undefined, "no GOAWAY");
      assert.ok(elapsedMs >= ageMs * 0.9 - 5, `GOAWAY after ${elapsedMs.toFixed(0)} ms, before the age minus jitter`);
      assert.equal(first.lastStreamId, 2 ** 31 - 1);
      assert.equal(first.errorCode, Http2ErrorCode.NO_ERROR);
      assert.equal(decoder.decode(first.debugData), "max_age");
      const ping = await client.waitFor((f) => (f.type === "PING" && !f.ack ? f : undefined));
      assert.ok(ping !== undefined, "a PING follows the first GOAWAY");
      client.send((w) => w.ping(ping.opaqueData, true));
      const second = await client.waitFor((f) => (f.type === "GOAWAY" ? f : undefined));
      assert.equal(second?.lastStreamId, 1);
      assert.equal(second?.errorCode, Http2ErrorCode.NO_ERROR);
      assert.equal(decoder.decode(second!.debugData), "max_age");
      const res = await client.response(1, 5000);
      assert.ok(res.ended, "the call running across the GOAWAY completes");
      assert.equal(res.headers.at(-1)?.["grpc-status"], "0");
      // Drained: the server closes the connection.
      await client.waitFor(() => undefined, 3000);
      assert.equal(client.closed, true);
    } finally {
      client.close();
    }
  });
});

describe("max connection age with our channel", () => {
  test("a call longer than the age finishes; the next call goes to a new connection", async () => {
    const s = await startOpsServer({ maxConnectionAgeMs: 200 });
    try {
      const { client } = s.channel();
      const reply = await client.unary({ message: "long", delayMs: 1_000 }, { timeoutMs: 10_000 });
      assert.equal(reply.message, "long");
      assert.equal((await client.unary({ message: "next" })).message, "next");
      assert.equal(s.peers.length, 2);
      assert.notEqual(s.peers[0], s.peers[1], "the second call should use a new connection");
      assert.deepEqual(s.cancelled, []);
    } finally {
      await s.close();
    }
  });

  test("maxConnectionAgeGraceMs after the final GOAWAY closes the connection: the handler sees CANCELLED, the call fails UNAVAILABLE", async () => {
    const ageMs = 200;
    const graceMs = 300;
    const s = await startOpsServer({ maxConnectionAgeMs: ageMs, maxConnectionAgeGraceMs: graceMs });
    try {
      const { client } = s.channel();
      const startedAt = performance.now();
      const error = await client.unary({ message: "endless", delayMs: 60_000 }, { timeoutMs: 30_000 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      const elapsedMs = performance.now() - startedAt;
      assert.ok(error instanceof GrpcError, `the call ended with ${String(error)}`);
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.ok(elapsedMs >= ageMs * 0.9 + graceMs - 20, `closed after ${elapsedMs.toFixed(0)} ms, before age + grace`);
      assert.ok(elapsedMs < 10_000, `closed only after ${elapsedMs.toFixed(0)} ms`);
      assert.deepEqual(s.cancelled, [Code.CANCELLED]);
    } finally {
      await s.close();
    }
  });

  test("calls under load across several age cycles all succeed: the channel reconnects and retries refused streams", async () => {
    const s = await startOpsServer({ maxConnectionAgeMs: 150 });
    try {
      const { client } = s.channel();
      const runForMs = 2_500;
      const end = performance.now() + runForMs;
      const failures: unknown[] = [];
      let completed = 0;
      const worker = async (id: number) => {
        for (let i = 0; performance.now() < end; i++) {
          try {
            if (i % 4 === 3) {
              let got = 0;
              for await (const reply of client.serverStream({ message: `s${id}`, count: 3, delayMs: 10 })) {
                assert.equal(reply.message, `s${id}`);
                got++;
              }
              assert.equal(got, 3);
            } else {
              const reply = await client.unary({ message: `u${id}.${i}`, delayMs: i % 3 === 0 ? 40 : 0 });
              assert.equal(reply.message, `u${id}.${i}`);
            }
            completed++;
          } catch (err) {
            failures.push(err);
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, (_, id) => worker(id)));
      assert.deepEqual(failures.map(String), []);
      assert.ok(completed > 100, `only ${completed} calls completed`);
      // 2.5 s of 150 ms (±10 %) connections: many age cycles.
      const connections = new Set(s.peers).size;
      assert.ok(connections >= 5, `only ${connections} connections were used`);
      assert.deepEqual(s.cancelled, []);
    } finally {
      await s.close();
    }
  });
});
