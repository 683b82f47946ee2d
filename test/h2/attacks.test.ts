/**
 * Attacks on a live h2 server, each from its own connection: HPACK bombs and
 * oversized header lists, CONTINUATION floods, rapid reset (CVE-2023-44487), PING,
 * SETTINGS, empty-DATA and WINDOW_UPDATE floods, a peer that stops reading or stops
 * mid-header-block, frames
 * over SETTINGS_MAX_FRAME_SIZE, stream-id misuse, a bad preface and a missing SETTINGS
 * ACK. The offender gets the right GOAWAY (or its stream the right answer), and
 * another connection is served all along. Flood limits are lowered here so each
 * attack stays small; the defaults are in src/transport/h2/options.ts.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectionPreface, FrameFlag, FrameType, Http2ErrorCode, http2ErrorName } from "../../src/protocol/http2/constants.js";
import { describeOutcome, FrameClient, requestHeaders, type Outcome } from "../h2-conformance/frame-client.js";
import { startFixtureServer, type FixtureServer } from "../h2-conformance/server-fixture.js";

const { ENHANCE_YOUR_CALM, FRAME_SIZE_ERROR, PROTOCOL_ERROR, SETTINGS_TIMEOUT } = Http2ErrorCode;

function assertGoaway(outcome: Outcome, code: number): void {
  assert.ok(outcome.kind === "goaway" && outcome.code === code, `expected GOAWAY ${http2ErrorName(code)}, got ${describeOutcome(outcome)}`);
}

/** Skips the RST_STREAMs a flood earns on the way and returns how the connection ended. */
async function connectionOutcome(client: FrameClient, timeoutMs = 5000): Promise<Outcome> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const outcome = await client.outcome(Math.max(1, deadline - Date.now()));
    if (outcome.kind !== "rst") return outcome;
  }
}

/** Sends `count` frames built by `frame`, in batches, until done or the server hangs up. */
async function flood(client: FrameClient, count: number, frame: (w: Parameters<Parameters<FrameClient["send"]>[0]>[0], i: number) => void): Promise<number> {
  let sent = 0;
  while (sent < count && !client.closed) {
    const batch = Math.min(1000, count - sent);
    client.send((w) => {
      for (let i = 0; i < batch; i++) frame(w, sent + i);
    });
    sent += batch;
    // Let the server read; a real attacker would not wait, but the socket buffers would.
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

describe("h2 server under attack", () => {
  let fixture: FixtureServer;
  /** An honest client on its own connection, opened before any attack. */
  let bystander: FrameClient;
  let nextBystanderStream = 1;

  before(async () => {
    fixture = await startFixtureServer({
      maxHeaderListSize: 8 * 1024,
      maxConcurrentStreams: 100,
      maxContinuationFrames: 32,
      pingFlood: { burst: 200, perSecond: 10 },
      settingsFlood: { burst: 50, perSecond: 5 },
      resetFlood: { burst: 200, perSecond: 10 },
      emptyFrameFlood: { burst: 200, perSecond: 10 },
      controlFrameFlood: { burst: 2000, perSecond: 100 },
      streamErrorFlood: { burst: 200, perSecond: 10 },
      settingsTimeoutMs: 300,
      headerBlockTimeoutMs: 300,
    });
    bystander = await FrameClient.connect(fixture.port);
  });
  after(async () => {
    bystander.close();
    await fixture.close();
  });

  /** The honest connection still gets a full response, and a new connection is accepted. */
  async function othersStillServed(): Promise<void> {
    const id = nextBystanderStream;
    nextBystanderStream += 2;
    bystander.sendHeaders(id, requestHeaders("/"), true);
    const res = await bystander.response(id);
    assert.ok(res.ended && res.headers[0]?.[":status"] === "200", "the bystander's request was served");
    const fresh = await FrameClient.connect(fixture.port);
    try {
      assert.equal(await fresh.pingPong(), true, "a new connection is served");
    } finally {
      fresh.close();
    }
  }

  test("an HPACK bomb (one 4 KB entry referenced a thousand times) gets 431 on its stream, nothing more", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const seenBefore = fixture.seen.length;
      const value = "x".repeat(4000);
      const rest = value.length - 127;
      const insert = [0x40, 0x01, 0x62, 0x7f, (rest & 0x7f) | 0x80, rest >> 7, ...Buffer.from(value)];
      const base = client.block(requestHeaders("/bomb"));
      const block = Uint8Array.from([...base, ...insert, ...new Array(1000).fill(0xbe)]);
      client.send((w) => w.headers(1, block, true, 16_384));
      const res = await client.response(1);
      assert.equal(res.headers[0]?.[":status"], "431");
      assert.equal(fixture.seen.length, seenBefore, "the request never reached the handler");
      assert.equal(await client.pingPong(), true, "the connection itself survives a too-large list");
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a header list over SETTINGS_MAX_HEADER_LIST_SIZE gets 431 and the connection goes on", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.sendHeaders(1, requestHeaders("/big", { "x-big": "y".repeat(10_000) }), true);
      const res = await client.response(1);
      assert.equal(res.headers[0]?.[":status"], "431");
      assert.equal(res.headers[0]?.["grpc-status"], "8");
      client.sendHeaders(3, requestHeaders("/"), true);
      assert.ok((await client.response(3)).ended, "the next request on the same connection is served");
    } finally {
      client.close();
    }
  });

  test("a CONTINUATION flood ends in GOAWAY ENHANCE_YOUR_CALM before the block is complete", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const block = client.block(requestHeaders("/"));
      client.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block));
      await flood(client, 10_000, (w) => w.continuation(1, new Uint8Array(100).fill(0x40), false));
      assertGoaway(await client.outcome(), ENHANCE_YOUR_CALM);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a CONTINUATION block larger than the header list limit allows ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, client.block(requestHeaders("/"))));
      await flood(client, 20, (w) => w.continuation(1, new Uint8Array(16_384).fill(0x40), false));
      assertGoaway(await client.outcome(), ENHANCE_YOUR_CALM);
    } finally {
      client.close();
    }
  });

  test("a header block left unfinished (HEADERS without END_HEADERS, then silence) ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const block = client.block(requestHeaders("/"));
      client.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 3)));
      const started = Date.now();
      const outcome = await client.outcome(5000);
      assertGoaway(outcome, ENHANCE_YOUR_CALM);
      assert.ok(Date.now() - started >= 250, "not before the header block timeout");
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a header block finished in CONTINUATION frames within the timeout is served", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const block = client.block(requestHeaders("/"));
      client.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 3)));
      await new Promise((resolve) => setTimeout(resolve, 100));
      client.send((w) => w.continuation(1, block.subarray(3), true));
      const res = await client.response(1);
      assert.equal(res.headers[0]?.[":status"], "200");
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(await client.pingPong(), true, "no timeout fires after the block finished");
    } finally {
      client.close();
    }
  });

  test("rapid reset (HEADERS then RST_STREAM, over and over) ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const seenBefore = fixture.seen.length;
      const block = client.block(requestHeaders("/hold"));
      await flood(client, 5000, (w, i) => {
        const id = 2 * i + 1;
        w.headers(id, block, false, 16_384);
        w.rstStream(id, Http2ErrorCode.CANCEL);
      });
      assertGoaway(await client.outcome(), ENHANCE_YOUR_CALM);
      const reached = fixture.seen.length - seenBefore;
      assert.ok(reached <= 400, `${reached} of 5000 reset streams reached the handler`);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("opening streams past MAX_CONCURRENT_STREAMS again and again ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const block = client.block(requestHeaders("/hold"));
      await flood(client, 2000, (w, i) => w.headers(2 * i + 1, block, false, 16_384));
      assertGoaway(await connectionOutcome(client), ENHANCE_YOUR_CALM);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a PING flood ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      await flood(client, 5000, (w) => w.ping(new Uint8Array(8), false));
      assertGoaway(await client.outcome(), ENHANCE_YOUR_CALM);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a SETTINGS flood ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      await flood(client, 2000, (w) => w.settings([{ id: 0x3, value: 100 }]));
      assertGoaway(await client.outcome(), ENHANCE_YOUR_CALM);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("an empty-DATA flood ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.sendHeaders(1, requestHeaders("/hold"), false);
      await flood(client, 5000, (w) => w.data(1, new Uint8Array(0), false));
      assertGoaway(await client.outcome(), ENHANCE_YOUR_CALM);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a WINDOW_UPDATE flood ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      await flood(client, 20_000, (w) => w.windowUpdate(0, 1));
      assertGoaway(await client.outcome(), ENHANCE_YOUR_CALM);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a flood of frames that each cause a stream error ends in GOAWAY ENHANCE_YOUR_CALM", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.sendHeaders(1, requestHeaders("/hold"), false);
      await flood(client, 5000, (w) => w.raw(FrameType.WINDOW_UPDATE, 0, 1, new Uint8Array(4)));
      assertGoaway(await connectionOutcome(client), ENHANCE_YOUR_CALM);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a frame declared larger than SETTINGS_MAX_FRAME_SIZE is refused from its header, its payload never sent", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.sendHeaders(1, requestHeaders("/hold"), false);
      // A 16 MiB DATA frame header and 100 bytes of it: the server must not wait for the rest.
      client.socket.write(Uint8Array.from([0xff, 0xff, 0xff, FrameType.DATA, 0, 0, 0, 0, 1, ...new Array(100).fill(0)]));
      assertGoaway(await client.outcome(), FRAME_SIZE_ERROR);
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("stream-id misuse (an even id, then an id going backwards) ends in GOAWAY PROTOCOL_ERROR", async () => {
    const even = await FrameClient.connect(fixture.port);
    const backwards = await FrameClient.connect(fixture.port);
    try {
      even.sendHeaders(2, requestHeaders("/"), true);
      assertGoaway(await even.outcome(), PROTOCOL_ERROR);
      backwards.sendHeaders(101, requestHeaders("/"), true);
      backwards.sendHeaders(51, requestHeaders("/"), true);
      assertGoaway(await backwards.outcome(), PROTOCOL_ERROR);
      await othersStillServed();
    } finally {
      even.close();
      backwards.close();
    }
  });

  test("a bad preface ends in GOAWAY PROTOCOL_ERROR", async () => {
    const client = await FrameClient.connect(fixture.port, { handshake: false });
    try {
      client.socket.write(new Uint8Array(64).fill(0x17));
      const outcome = await client.outcome();
      assert.ok(outcome.kind === "closed" || (outcome.kind === "goaway" && outcome.code === PROTOCOL_ERROR), describeOutcome(outcome));
      await othersStillServed();
    } finally {
      client.close();
    }
  });

  test("a client that never acknowledges SETTINGS gets GOAWAY SETTINGS_TIMEOUT", async () => {
    const client = await FrameClient.connect(fixture.port, { handshake: false });
    try {
      client.send((w) => {
        w.bytes(connectionPreface);
        w.settings([]);
      });
      assertGoaway(await client.outcome(3000), SETTINGS_TIMEOUT);
      await othersStillServed();
    } finally {
      client.close();
    }
  });
});

describe("h2 server with a peer that stops reading", () => {
  let fixture: FixtureServer;
  before(async () => {
    fixture = await startFixtureServer({
      pingFlood: { burst: 1e9, perSecond: 1e9 },
      socketHighWaterMark: 16 * 1024,
      maxPendingControlFrames: 1000,
    });
  });
  after(() => fixture.close());

  test("PINGs from a peer that reads none of the ACKs get the connection closed, owed ACKs bounded", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.socket.pause();
      // Each ACK is 17 bytes; enough of them fill every socket buffer on the way back.
      const sent = await flood(client, 2_000_000, (w) => w.ping(new Uint8Array(8), false));
      client.socket.resume();
      // The GOAWAY (ENHANCE_YOUR_CALM) sits behind the unread ACKs, so the peer may only see the close.
      const outcome = await connectionOutcome(client, 10_000);
      assert.ok(outcome.kind === "closed" || (outcome.kind === "goaway" && outcome.code === ENHANCE_YOUR_CALM), describeOutcome(outcome));
      assert.ok(client.bytesReceived < (sent * 17) / 2, `the server stopped answering instead of queueing every ACK (${client.bytesReceived} bytes back for ${sent} PINGs)`);
      const other = await FrameClient.connect(fixture.port);
      try {
        assert.equal(await other.pingPong(), true);
      } finally {
        other.close();
      }
    } finally {
      client.close();
    }
  });
});
