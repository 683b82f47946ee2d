/**
 * Server ping policing (gRFC A8 server enforcement) on our h2 transport, through the
 * Server's options: a client PING sooner than keepaliveMinPingIntervalMs after the
 * previous one is a strike, two are forgiven, the third ends the connection with GOAWAY
 * ENHANCE_YOUR_CALM "too_many_pings". Without calls (and without
 * keepalivePermitWithoutCalls) PINGs need 2 h. Our response HEADERS/DATA clear the
 * strikes. A raw frame client breaks the rules on purpose; our channel shows the A8
 * answer: it doubles its keepalive time until the server is content.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError } from "../../src/index.js";
import { FrameClient, Http2ErrorCode, type ReceivedFrame } from "../h2-conformance/frame-client.js";
import { echoRequestBody, grpcRequestHeaders, startOpsServer, type OpsServer } from "./fixture.js";

/** Sends one PING; resolves "ack", or the GOAWAY's code and debug text, or "closed"/"timeout". */
async function ping(client: FrameClient, n: number): Promise<string> {
  const data = new Uint8Array([0x70, 0, 0, 0, 0, 0, 0, n]);
  client.send((w) => w.ping(data, false));
  const answer = await client.waitFor((f: ReceivedFrame) => {
    if (f.type === "PING" && f.ack && f.opaqueData[7] === n) return "ack";
    if (f.type === "GOAWAY") return `GOAWAY ${f.errorCode} ${new TextDecoder().decode(f.debugData)}`;
    return undefined;
  }, 3000);
  return answer ?? (client.closed ? "closed" : "timeout");
}

const tooManyPings = `GOAWAY ${Http2ErrorCode.ENHANCE_YOUR_CALM} too_many_pings`;

async function waitClosed(client: FrameClient): Promise<boolean> {
  await client.waitFor(() => undefined, 3000);
  return client.closed;
}

describe("ping policing with keepaliveMinPingIntervalMs", () => {
  let s: OpsServer;
  before(async () => {
    s = await startOpsServer({ keepaliveMinPingIntervalMs: 60_000, keepalivePermitWithoutCalls: true });
  });
  after(() => s.close());

  test("forgives two PINGs that come too soon and answers the third with GOAWAY ENHANCE_YOUR_CALM too_many_pings, then closes", async () => {
    const client = await FrameClient.connect(s.port);
    try {
      const answers = [];
      for (let n = 1; n <= 4; n++) answers.push(await ping(client, n));
      // The first PING is fine; the next two are strikes 1 and 2, still answered.
      assert.deepEqual(answers, ["ack", "ack", "ack", tooManyPings]);
      assert.equal(await waitClosed(client), true);
    } finally {
      client.close();
    }
  });

  test("response HEADERS and DATA clear the strikes: three more PINGs are answered after a call", async () => {
    const client = await FrameClient.connect(s.port);
    try {
      const answers = [];
      for (let n = 1; n <= 3; n++) answers.push(await ping(client, n));
      assert.deepEqual(answers, ["ack", "ack", "ack"]);
      client.sendHeaders(1, grpcRequestHeaders(), false);
      client.send((w) => w.data(1, echoRequestBody({ message: "hi" }), true));
      const res = await client.response(1);
      assert.ok(res.ended && res.body > 0, "the call completes");
      // Strikes and the last PING time start over: one fine PING, two strikes, then GOAWAY.
      for (let n = 4; n <= 7; n++) answers.push(await ping(client, n));
      assert.deepEqual(answers.slice(3), ["ack", "ack", "ack", tooManyPings]);
    } finally {
      client.close();
    }
  });
});

describe("ping policing of connections without calls", () => {
  let s: OpsServer;
  before(async () => {
    // PINGs 100 ms apart satisfy the interval; only the 2 h rule for idle connections can strike.
    s = await startOpsServer({ keepaliveMinPingIntervalMs: 20 });
  });
  after(() => s.close());

  test("with no call open and keepalivePermitWithoutCalls false, PINGs need 2 h between them", async () => {
    const client = await FrameClient.connect(s.port);
    try {
      const answers = [];
      for (let n = 1; n <= 4; n++) {
        answers.push(await ping(client, n));
        await sleep(100);
      }
      assert.deepEqual(answers, ["ack", "ack", "ack", tooManyPings]);
    } finally {
      client.close();
    }
  });

  test("with a call open the same PINGs are within keepaliveMinPingIntervalMs and all answered", async () => {
    const client = await FrameClient.connect(s.port);
    try {
      const started = s.nextCall();
      client.sendHeaders(1, grpcRequestHeaders(), false);
      client.send((w) => w.data(1, echoRequestBody({ message: "slow", delayMs: 60_000 }), true));
      await started;
      const answers = [];
      for (let n = 1; n <= 6; n++) {
        answers.push(await ping(client, n));
        await sleep(100);
      }
      assert.deepEqual(answers, ["ack", "ack", "ack", "ack", "ack", "ack"]);
    } finally {
      client.close();
    }
  });
});

describe("ping policing and our channel (A8)", () => {
  let s: OpsServer;
  before(async () => {
    s = await startOpsServer({ keepaliveMinPingIntervalMs: 300 });
  });
  after(() => s.close());

  test("a channel pinging more often than the server permits gets too_many_pings, doubles its keepalive time and then keeps its calls", async () => {
    // 100 ms < 300 ms: struck; doubled to 200 ms: still struck (unless the loop is slow); 400 ms: fine.
    const { client } = s.channel({ keepaliveTimeMs: 100, testOnlyMinKeepaliveTimeMs: 1 });
    const failures: GrpcError[] = [];
    let reply: string | undefined;
    for (let attempt = 0; attempt < 5 && reply === undefined; attempt++) {
      try {
        reply = (await client.unary({ message: "patient", delayMs: 1_500 }, { timeoutMs: 20_000 })).message;
      } catch (err) {
        assert.ok(err instanceof GrpcError, String(err));
        failures.push(err);
      }
    }
    assert.equal(reply, "patient", `no call survived: ${failures.map((e) => e.message).join("; ")}`);
    assert.ok(failures.length >= 1 && failures.length <= 2, `${failures.length} calls failed before the keepalive time was high enough`);
    for (const failure of failures) {
      assert.equal(failure.code, Code.UNAVAILABLE);
      assert.match(failure.message, /ENHANCE_YOUR_CALM \(too_many_pings\)/);
    }
    // Each failed call took its connection down; the channel reconnected for the next.
    assert.equal(new Set(s.peers).size, failures.length + 1);
    // The handlers of the failed calls were cancelled with their connections.
    assert.deepEqual(s.cancelled, failures.map(() => Code.CANCELLED));
  });
});
