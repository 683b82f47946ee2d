/**
 * RFC 9113 conformance of our h2 server, played frame by frame (the ground h2spec
 * covers): the preface, frame sizes, every frame type's rules, stream states, flow
 * control, and the HTTP message rules for header fields. Each case sends something a
 * peer may or may not send and checks the exact answer: GOAWAY with a code, or
 * RST_STREAM with a code on the stream, or the normal response. After a stream error
 * the connection must keep serving.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connectionPreface, FrameFlag, FrameType, Http2ErrorCode, SettingsId, http2ErrorName } from "../../src/protocol/http2/constants.js";
import { describeOutcome, FrameClient, requestHeaders, type Outcome } from "./frame-client.js";
import { startFixtureServer, type FixtureServer } from "./server-fixture.js";

const { PROTOCOL_ERROR, FRAME_SIZE_ERROR, STREAM_CLOSED, FLOW_CONTROL_ERROR, COMPRESSION_ERROR, REFUSED_STREAM } = Http2ErrorCode;

/** What the server must answer: a connection error, a stream error on `id`, or either (the RFC allows both). */
type Expected = { conn: number } | { stream: number; id: number } | { either: number };

function matches(outcome: Outcome, expected: Expected): boolean {
  if ("conn" in expected) return outcome.kind === "goaway" && outcome.code === expected.conn;
  if ("stream" in expected) return outcome.kind === "rst" && outcome.code === expected.stream && outcome.streamId === expected.id;
  return (outcome.kind === "goaway" || outcome.kind === "rst") && outcome.code === expected.either;
}

function describeExpected(e: Expected): string {
  if ("conn" in e) return `GOAWAY ${http2ErrorName(e.conn)}`;
  if ("stream" in e) return `RST_STREAM ${http2ErrorName(e.stream)}`;
  return `${http2ErrorName(e.either)}`;
}

/** A header block of raw literal fields without indexing: any name, any order, upper case too. */
function rawBlock(fields: [string, string][]): Uint8Array {
  const bytes: number[] = [];
  for (const [name, value] of fields) {
    bytes.push(0x00, name.length, ...Buffer.from(name, "latin1"), value.length, ...Buffer.from(value, "latin1"));
  }
  return Uint8Array.from(bytes);
}

const validRequest: [string, string][] = [[":method", "POST"], [":scheme", "http"], [":path", "/"], [":authority", "localhost"]];
const bytes = (...values: number[]) => Uint8Array.from(values);
const u32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

interface Case {
  section: string;
  name: string;
  play: (c: FrameClient) => Promise<void> | void;
  expect: Expected;
}

const cases: Case[] = [
  // §4.2 Frame size
  { section: "4.2", name: "DATA larger than SETTINGS_MAX_FRAME_SIZE", expect: { conn: FRAME_SIZE_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.data(1, new Uint8Array(16_385), false));
  } },
  { section: "4.2", name: "HEADERS larger than SETTINGS_MAX_FRAME_SIZE", expect: { conn: FRAME_SIZE_ERROR }, play: (c) => {
    c.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_HEADERS, 1, new Uint8Array(16_385)));
  } },
  // §4.3 Field section compression
  { section: "4.3", name: "a header block that cannot be decoded", expect: { conn: COMPRESSION_ERROR }, play: (c) => {
    c.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, bytes(0x80)));
  } },
  { section: "4.3", name: "a PRIORITY frame between HEADERS and CONTINUATION", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    const block = c.block(requestHeaders());
    c.send((w) => {
      w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 2));
      w.priority(1, { dependency: 0, exclusive: false, weight: 16 });
      w.continuation(1, block.subarray(2), true);
    });
  } },
  // §5.1 Stream states
  { section: "5.1", name: "DATA on an idle stream", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.data(1, bytes(1), false)) },
  { section: "5.1", name: "RST_STREAM on an idle stream", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.rstStream(1, 8)) },
  { section: "5.1", name: "WINDOW_UPDATE on an idle stream", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.windowUpdate(1, 100)) },
  { section: "5.1", name: "CONTINUATION on an idle stream", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.continuation(1, c.block(requestHeaders()), true)) },
  { section: "5.1", name: "DATA on a half-closed (remote) stream", expect: { either: STREAM_CLOSED }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), true);
    c.send((w) => w.data(1, bytes(1), false));
  } },
  { section: "5.1", name: "HEADERS on a half-closed (remote) stream", expect: { either: STREAM_CLOSED }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), true);
    c.sendHeaders(1, requestHeaders("/hold"), true);
  } },
  { section: "5.1", name: "DATA on a stream the client reset", expect: { either: STREAM_CLOSED }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => {
      w.rstStream(1, Http2ErrorCode.CANCEL);
      w.data(1, bytes(1), false);
    });
  } },
  { section: "5.1", name: "HEADERS on a stream closed by END_STREAM both ways", expect: { conn: STREAM_CLOSED }, play: async (c) => {
    c.sendHeaders(1, requestHeaders("/"), true);
    const res = await c.response(1);
    assert.ok(res.ended, "the first request completed");
    c.sendHeaders(1, requestHeaders("/"), true);
  } },
  // §5.1.1 Stream identifiers
  { section: "5.1.1", name: "a client stream with an even identifier", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.sendHeaders(2, requestHeaders(), true) },
  { section: "5.1.1", name: "a stream identifier lower than one already opened", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(5, requestHeaders("/hold"), true);
    c.sendHeaders(3, requestHeaders("/hold"), true);
  } },
  // §5.3.1 Stream dependencies
  { section: "5.3.1", name: "HEADERS whose priority depends on its own stream", expect: { either: PROTOCOL_ERROR }, play: (c) => {
    const block = c.block(requestHeaders());
    c.send((w) => w.headers(1, block, true, 16_384, { dependency: 1, exclusive: false, weight: 16 }));
  } },
  { section: "5.3.1", name: "PRIORITY that depends on its own stream", expect: { either: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.priority(1, { dependency: 1, exclusive: false, weight: 16 }));
  } },
  // §5.5 Extending HTTP/2
  { section: "5.5", name: "an unknown frame inside a header block", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    const block = c.block(requestHeaders());
    c.send((w) => {
      w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 2));
      w.raw(0x42, 0, 0, bytes(1, 2, 3));
      w.continuation(1, block.subarray(2), true);
    });
  } },
  // §6.1 DATA
  { section: "6.1", name: "DATA on stream 0", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.data(0, bytes(1), false)) },
  { section: "6.1", name: "DATA whose pad length is not less than its payload", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.raw(FrameType.DATA, FrameFlag.PADDED, 1, bytes(6, 0, 0, 0, 0, 0)));
  } },
  // §6.2 HEADERS
  { section: "6.2", name: "HEADERS on stream 0", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.headers(0, c.block(requestHeaders()), true, 16_384)) },
  { section: "6.2", name: "HEADERS whose pad length is not less than its payload", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    c.send((w) => w.raw(FrameType.HEADERS, FrameFlag.PADDED | FrameFlag.END_HEADERS, 1, bytes(8, 0x82, 0x86)));
  } },
  { section: "6.2", name: "HEADERS without END_HEADERS followed by DATA", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    const block = c.block(requestHeaders());
    c.send((w) => {
      w.raw(FrameType.HEADERS, 0, 1, block);
      w.data(1, bytes(1), true);
    });
  } },
  { section: "6.2", name: "a header block continued on another stream", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    const block = c.block(requestHeaders());
    c.send((w) => {
      w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 2));
      w.continuation(3, block.subarray(2), true);
    });
  } },
  // §6.3 PRIORITY
  { section: "6.3", name: "PRIORITY on stream 0", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.priority(0, { dependency: 1, exclusive: false, weight: 1 })) },
  { section: "6.3", name: "PRIORITY of 4 bytes", expect: { either: FRAME_SIZE_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.raw(FrameType.PRIORITY, 0, 1, bytes(0, 0, 0, 0)));
  } },
  // §6.4 RST_STREAM
  { section: "6.4", name: "RST_STREAM on stream 0", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.rstStream(0, 8)) },
  { section: "6.4", name: "RST_STREAM of 3 bytes", expect: { conn: FRAME_SIZE_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.raw(FrameType.RST_STREAM, 0, 1, bytes(0, 0, 8)));
  } },
  // §6.5 SETTINGS
  { section: "6.5", name: "a SETTINGS ACK with a payload", expect: { conn: FRAME_SIZE_ERROR }, play: (c) => c.send((w) => w.raw(FrameType.SETTINGS, FrameFlag.ACK, 0, bytes(0, 1, 0, 0, 0x10, 0))) },
  { section: "6.5", name: "SETTINGS on stream 1", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.raw(FrameType.SETTINGS, 0, 1, new Uint8Array(0))) },
  { section: "6.5", name: "SETTINGS of 3 bytes", expect: { conn: FRAME_SIZE_ERROR }, play: (c) => c.send((w) => w.raw(FrameType.SETTINGS, 0, 0, bytes(0, 1, 0))) },
  { section: "6.5.2", name: "SETTINGS_ENABLE_PUSH of 2", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.settings([{ id: SettingsId.ENABLE_PUSH, value: 2 }])) },
  { section: "6.5.2", name: "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", expect: { conn: FLOW_CONTROL_ERROR }, play: (c) => c.send((w) => w.settings([{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 2 ** 31 }])) },
  { section: "6.5.2", name: "SETTINGS_MAX_FRAME_SIZE below 16384", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.settings([{ id: SettingsId.MAX_FRAME_SIZE, value: 16_383 }])) },
  { section: "6.5.2", name: "SETTINGS_MAX_FRAME_SIZE above 2^24-1", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.settings([{ id: SettingsId.MAX_FRAME_SIZE, value: 2 ** 24 }])) },
  // §6.7 PING
  { section: "6.7", name: "PING on stream 1", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.raw(FrameType.PING, 0, 1, new Uint8Array(8))) },
  { section: "6.7", name: "PING of 7 bytes", expect: { conn: FRAME_SIZE_ERROR }, play: (c) => c.send((w) => w.raw(FrameType.PING, 0, 0, new Uint8Array(7))) },
  // §6.8 GOAWAY
  { section: "6.8", name: "GOAWAY on stream 1", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.raw(FrameType.GOAWAY, 0, 1, new Uint8Array(8))) },
  // §6.9 WINDOW_UPDATE
  { section: "6.9", name: "WINDOW_UPDATE of 0 on the connection", expect: { conn: PROTOCOL_ERROR }, play: (c) => c.send((w) => w.raw(FrameType.WINDOW_UPDATE, 0, 0, bytes(0, 0, 0, 0))) },
  { section: "6.9", name: "WINDOW_UPDATE of 0 on a stream", expect: { stream: PROTOCOL_ERROR, id: 1 }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.raw(FrameType.WINDOW_UPDATE, 0, 1, bytes(0, 0, 0, 0)));
  } },
  { section: "6.9", name: "WINDOW_UPDATE of 3 bytes", expect: { conn: FRAME_SIZE_ERROR }, play: (c) => c.send((w) => w.raw(FrameType.WINDOW_UPDATE, 0, 0, bytes(0, 0, 1))) },
  { section: "6.9.1", name: "a connection window pushed above 2^31-1", expect: { conn: FLOW_CONTROL_ERROR }, play: (c) => c.send((w) => {
    w.windowUpdate(0, 2 ** 31 - 1);
    w.windowUpdate(0, 2 ** 31 - 1);
  }) },
  { section: "6.9.1", name: "a stream window pushed above 2^31-1", expect: { stream: FLOW_CONTROL_ERROR, id: 1 }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => {
      w.windowUpdate(1, 2 ** 31 - 1);
      w.windowUpdate(1, 2 ** 31 - 1);
    });
  } },
  { section: "6.9.2", name: "SETTINGS_INITIAL_WINDOW_SIZE that overflows an open stream's window", expect: { conn: FLOW_CONTROL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => {
      w.windowUpdate(1, 2 ** 31 - 1 - 65_535);
      w.settings([{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 65_536 }]);
    });
  } },
  // §6.10 CONTINUATION
  { section: "6.10", name: "CONTINUATION after a complete header block", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.continuation(1, c.block({ "x-a": "b" }), true));
  } },
  { section: "6.10", name: "CONTINUATION on stream 0", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    const block = c.block(requestHeaders());
    c.send((w) => {
      w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 2));
      w.continuation(0, block.subarray(2), true);
    });
  } },
  { section: "6.10", name: "CONTINUATION after DATA", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => {
      w.data(1, bytes(1), false);
      w.continuation(1, c.block({ "x-a": "b" }), true);
    });
  } },
  // §8.1 HTTP message framing
  { section: "8.1", name: "a second HEADERS (trailers) without END_STREAM", expect: { either: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.data(1, bytes(1), false));
    c.sendHeaders(1, { "x-trailer": "1" }, false);
  } },
  { section: "8.1.1", name: "DATA beyond content-length", expect: { either: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold", { "content-length": "1" }), false);
    c.send((w) => w.data(1, bytes(1, 2), true));
  } },
  { section: "8.1.1", name: "DATA short of content-length", expect: { either: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold", { "content-length": "5" }), false);
    c.send((w) => w.data(1, bytes(1, 2), true));
  } },
  // §8.4 Server push
  { section: "8.4", name: "PUSH_PROMISE from a client", expect: { conn: PROTOCOL_ERROR }, play: (c) => {
    c.sendHeaders(1, requestHeaders("/hold"), false);
    c.send((w) => w.pushPromise(1, 2, c.block(requestHeaders())));
  } },
];

// §8.2, §8.3: malformed header sections, each a stream error of type PROTOCOL_ERROR.
const malformed: [string, string, [string, string][]][] = [
  ["8.2", "an upper-case field name", [...validRequest, ["X-Upper", "1"]]],
  ["8.2", "a field name with a space", [...validRequest, ["x y", "1"]]],
  ["8.2", "a field value with a line feed", [...validRequest, ["x-a", "a\nb"]]],
  ["8.2.2", "a connection header", [...validRequest, ["connection", "keep-alive"]]],
  ["8.2.2", "a transfer-encoding header", [...validRequest, ["transfer-encoding", "chunked"]]],
  ["8.2.2", "te other than trailers", [...validRequest, ["te", "gzip"]]],
  ["8.3", "an unknown pseudo-header", [...validRequest, [":foo", "bar"]]],
  ["8.3", "a response pseudo-header in a request", [...validRequest, [":status", "200"]]],
  ["8.3", "a repeated :path", [...validRequest, [":path", "/again"]]],
  ["8.3", "a pseudo-header after a regular header", [[":method", "POST"], [":scheme", "http"], ["x-a", "1"], [":path", "/"]]],
  ["8.3.1", "a request without :method", [[":scheme", "http"], [":path", "/"]]],
  ["8.3.1", "a request without :scheme", [[":method", "POST"], [":path", "/"]]],
  ["8.3.1", "a request without :path", [[":method", "POST"], [":scheme", "http"]]],
  ["8.3.1", "a request with an empty :path", [[":method", "POST"], [":scheme", "http"], [":path", ""]]],
];
for (const [section, name, fields] of malformed) {
  cases.push({ section, name, expect: { stream: PROTOCOL_ERROR, id: 1 }, play: (c) => c.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, rawBlock(fields))) });
}
cases.push({ section: "8.1", name: "pseudo-headers in trailers", expect: { stream: PROTOCOL_ERROR, id: 1 }, play: (c) => {
  c.sendHeaders(1, requestHeaders("/hold"), false);
  c.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, rawBlock([[":path", "/x"]])));
} });

describe("RFC 9113 conformance of the h2 server", () => {
  let fixture: FixtureServer;
  before(async () => {
    fixture = await startFixtureServer();
  });
  after(() => fixture.close());

  for (const c of cases) {
    test(`§${c.section}: answers ${c.name} with ${describeExpected(c.expect)}`, async () => {
      const client = await FrameClient.connect(fixture.port);
      try {
        await c.play(client);
        const outcome = await client.outcome();
        assert.ok(matches(outcome, c.expect), `got ${describeOutcome(outcome)}`);
        if (outcome.kind === "goaway") {
          // §5.4.1: after GOAWAY for a connection error, the connection closes.
          const closed = await client.waitFor(() => undefined, 3000);
          assert.equal(closed, undefined);
          assert.equal(client.closed, true, "the connection closed after GOAWAY");
        } else {
          assert.equal(await client.pingPong(), true, "the connection still serves after a stream error");
        }
      } finally {
        client.close();
      }
    });
  }

  test("§3.4: answers a bad connection preface with GOAWAY PROTOCOL_ERROR and closes", async () => {
    const client = await FrameClient.connect(fixture.port, { handshake: false });
    try {
      client.socket.write("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n");
      const outcome = await client.outcome();
      assert.ok(outcome.kind === "goaway" ? outcome.code === PROTOCOL_ERROR : outcome.kind === "closed", describeOutcome(outcome));
    } finally {
      client.close();
    }
  });

  test("§3.4: answers a first frame other than SETTINGS with GOAWAY PROTOCOL_ERROR", async () => {
    const client = await FrameClient.connect(fixture.port, { handshake: false });
    try {
      client.send((w) => {
        w.bytes(connectionPreface);
        w.ping(new Uint8Array(8), false);
      });
      const outcome = await client.outcome();
      assert.ok(matches(outcome, { conn: PROTOCOL_ERROR }), describeOutcome(outcome));
    } finally {
      client.close();
    }
  });

  test("§3.4: the server's first frame is SETTINGS, sent without waiting for the client", async () => {
    const client = await FrameClient.connect(fixture.port, { handshake: false });
    try {
      const first = await client.next();
      assert.equal(first?.type, "SETTINGS");
      assert.ok(first?.type === "SETTINGS" && !first.ack);
    } finally {
      client.close();
    }
  });

  test("§4.1: ignores frames of unknown type and unknown flags", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.send((w) => {
        w.raw(0x42, 0xff, 0, bytes(1, 2, 3));
        w.raw(FrameType.PING, 0xfe, 0, bytes(9, 9, 9, 9, 9, 9, 9, 9));
      });
      const ack = await client.waitFor((f) => (f.type === "PING" ? f : undefined));
      assert.ok(ack?.ack === true && ack.opaqueData[0] === 9);
    } finally {
      client.close();
    }
  });

  test("§4.1: ignores the reserved bit of a stream identifier", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const block = client.block(requestHeaders("/"));
      client.send((w) => w.headers(0x80000001, block, true, 16_384));
      const res = await client.response(1);
      assert.equal(res.headers[0]?.[":status"], "200");
      assert.ok(res.ended);
    } finally {
      client.close();
    }
  });

  test("§4.2: accepts DATA of exactly SETTINGS_MAX_FRAME_SIZE", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.sendHeaders(1, requestHeaders("/"), false);
      client.send((w) => w.data(1, new Uint8Array(16_384), true));
      const res = await client.response(1);
      assert.ok(res.ended);
      assert.equal(res.headers[1]?.["x-received"], "16384");
    } finally {
      client.close();
    }
  });

  test("§5.1.2: refuses a stream beyond SETTINGS_MAX_CONCURRENT_STREAMS with REFUSED_STREAM and serves the others", async () => {
    const limited = await startFixtureServer({ maxConcurrentStreams: 2 });
    const client = await FrameClient.connect(limited.port);
    try {
      client.sendHeaders(1, requestHeaders("/hold"), false);
      client.sendHeaders(3, requestHeaders("/hold"), false);
      client.sendHeaders(5, requestHeaders("/"), true);
      const outcome = await client.outcome();
      assert.ok(matches(outcome, { stream: REFUSED_STREAM, id: 5 }), describeOutcome(outcome));
      client.send((w) => w.rstStream(1, Http2ErrorCode.CANCEL));
      client.sendHeaders(7, requestHeaders("/"), true);
      const res = await client.response(7);
      assert.ok(res.ended, "a stream opened after one closed is served");
      assert.deepEqual(limited.seen, ["/hold", "/hold", "/"]);
    } finally {
      client.close();
      await limited.close();
    }
  });

  test("§6.5.3: acknowledges SETTINGS, unknown identifiers included", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.send((w) => w.settings([{ id: 0x99, value: 7 }, { id: SettingsId.MAX_CONCURRENT_STREAMS, value: 10 }]));
      const ack = await client.waitFor((f) => (f.type === "SETTINGS" ? f : undefined));
      assert.equal(ack?.ack, true);
    } finally {
      client.close();
    }
  });

  test("§6.7: answers PING with an ACK carrying the same data and does not answer an ACK", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.send((w) => {
        w.ping(bytes(1, 1, 1, 1, 1, 1, 1, 1), true);
        w.ping(bytes(2, 3, 4, 5, 6, 7, 8, 9), false);
      });
      const first = await client.waitFor((f) => (f.type === "PING" ? f : undefined));
      assert.ok(first?.ack);
      assert.deepEqual([...first.opaqueData], [2, 3, 4, 5, 6, 7, 8, 9]);
    } finally {
      client.close();
    }
  });

  test("§6.9.1: sends no more DATA than the client's stream window allows", async () => {
    const client = await FrameClient.connect(fixture.port, { settings: [{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 1 }] });
    try {
      client.sendHeaders(1, requestHeaders("/size/5"), true);
      const first = await client.waitFor((f) => (f.type === "DATA" ? f : undefined));
      assert.equal(first?.data.length, 1);
      const more = await client.waitFor((f) => (f.type === "DATA" ? f : undefined), 300);
      assert.equal(more, undefined, "nothing beyond the window");
      client.send((w) => w.windowUpdate(1, 4));
      let got = 0;
      while (got < 4) {
        const f = await client.waitFor((x) => (x.type === "DATA" ? x : undefined));
        assert.ok(f !== undefined);
        got += f.data.length;
      }
      assert.equal(got, 4);
    } finally {
      client.close();
    }
  });

  test("§6.9.2: a smaller SETTINGS_INITIAL_WINDOW_SIZE can make a stream window negative", async () => {
    const client = await FrameClient.connect(fixture.port, { settings: [{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 100 }] });
    try {
      client.sendHeaders(1, requestHeaders("/size/200"), true);
      let got = 0;
      while (got < 100) {
        const f = await client.waitFor((x) => (x.type === "DATA" ? x : undefined));
        assert.ok(f !== undefined);
        got += f.data.length;
      }
      // Window 0 now; 100 -> 50 makes it -50, and a WINDOW_UPDATE of 60 leaves room for 10.
      client.send((w) => {
        w.settings([{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 50 }]);
        w.windowUpdate(1, 60);
      });
      let more = 0;
      for (;;) {
        const f = await client.waitFor((x) => (x.type === "DATA" ? x : undefined), 300);
        if (f === undefined) break;
        more += f.data.length;
      }
      assert.equal(more, 10);
    } finally {
      client.close();
    }
  });

  test("§6.10: accepts a header block split over several CONTINUATION frames", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const block = client.block(requestHeaders("/", { "x-long": "y".repeat(300) }));
      client.send((w) => {
        w.raw(FrameType.HEADERS, FrameFlag.END_STREAM, 1, block.subarray(0, 10));
        w.continuation(1, block.subarray(10, 100), false);
        w.continuation(1, block.subarray(100, 100), false);
        w.continuation(1, block.subarray(100), true);
      });
      const res = await client.response(1);
      assert.ok(res.ended);
      assert.equal(res.headers[0]?.[":status"], "200");
    } finally {
      client.close();
    }
  });

  test("§6.8: GOAWAY from the client lets its open streams finish", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.sendHeaders(1, requestHeaders("/size/70000"), false);
      client.send((w) => w.goaway(0, Http2ErrorCode.NO_ERROR));
      client.send((w) => {
        w.windowUpdate(0, 1 << 20);
        w.windowUpdate(1, 1 << 20);
        w.data(1, new Uint8Array(0), true);
      });
      const res = await client.response(1);
      assert.ok(res.ended);
      assert.equal(res.body, 70_000);
    } finally {
      client.close();
    }
  });
});
