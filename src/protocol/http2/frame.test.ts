import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameFlag, FrameType, Http2ErrorCode, SettingsId } from "./constants.js";
import { parseFrame, type Frame, type FrameError } from "./frame.js";
import { FrameReader } from "./frame-reader.js";
import { FrameWriter } from "./frame-writer.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const concat = (chunks: Uint8Array[]) => new Uint8Array(Buffer.concat(chunks));

function parse(type: number, flags: number, streamId: number, payload: string): Frame | FrameError {
  const bytes = hex(payload);
  return parseFrame({ length: bytes.length, type, flags, streamId }, bytes);
}

function errorOf(result: Frame | FrameError): string {
  return result.type === "error" ? `${result.scope} ${result.code}` : "ok";
}

const P = Http2ErrorCode.PROTOCOL_ERROR;
const F = Http2ErrorCode.FRAME_SIZE_ERROR;
const invalid: [string, number, number, number, string, string][] = [
  // name, type, flags, stream, payload, expected "scope code"
  ["DATA on stream 0", FrameType.DATA, 0, 0, "00", `connection ${P}`],
  ["DATA whose pad length is the payload length", FrameType.DATA, FrameFlag.PADDED, 1, "03 0000", `connection ${P}`],
  ["DATA that is PADDED but empty", FrameType.DATA, FrameFlag.PADDED, 1, "", `connection ${F}`],
  ["HEADERS on stream 0", FrameType.HEADERS, FrameFlag.END_HEADERS, 0, "82", `connection ${P}`],
  ["HEADERS whose padding eats the block", FrameType.HEADERS, FrameFlag.PADDED, 1, "05 8286", `connection ${P}`],
  ["HEADERS too short for priority", FrameType.HEADERS, FrameFlag.PRIORITY, 1, "0000", `connection ${F}`],
  ["PRIORITY on stream 0", FrameType.PRIORITY, 0, 0, "0000000010", `connection ${P}`],
  ["PRIORITY of 4 bytes", FrameType.PRIORITY, 0, 1, "00000000", `stream ${F}`],
  ["PRIORITY on itself", FrameType.PRIORITY, 0, 3, "0000000310", `stream ${P}`],
  ["RST_STREAM on stream 0", FrameType.RST_STREAM, 0, 0, "00000008", `connection ${P}`],
  ["RST_STREAM of 3 bytes", FrameType.RST_STREAM, 0, 1, "000008", `connection ${F}`],
  ["SETTINGS on stream 1", FrameType.SETTINGS, 0, 1, "", `connection ${P}`],
  ["SETTINGS ACK with payload", FrameType.SETTINGS, FrameFlag.ACK, 0, "000100001000", `connection ${F}`],
  ["SETTINGS of 5 bytes", FrameType.SETTINGS, 0, 0, "0001000010", `connection ${F}`],
  ["SETTINGS_ENABLE_PUSH 2", FrameType.SETTINGS, 0, 0, "000200000002", `connection ${P}`],
  ["SETTINGS_INITIAL_WINDOW_SIZE 2^31", FrameType.SETTINGS, 0, 0, "000480000000", `connection ${Http2ErrorCode.FLOW_CONTROL_ERROR}`],
  ["SETTINGS_MAX_FRAME_SIZE 16383", FrameType.SETTINGS, 0, 0, "000500003fff", `connection ${P}`],
  ["SETTINGS_MAX_FRAME_SIZE 2^24", FrameType.SETTINGS, 0, 0, "000501000000", `connection ${P}`],
  ["PING on stream 1", FrameType.PING, 0, 1, "0000000000000000", `connection ${P}`],
  ["PING of 7 bytes", FrameType.PING, 0, 0, "00000000000000", `connection ${F}`],
  ["GOAWAY on stream 1", FrameType.GOAWAY, 0, 1, "0000000000000000", `connection ${P}`],
  ["GOAWAY of 7 bytes", FrameType.GOAWAY, 0, 0, "00000000000000", `connection ${F}`],
  ["WINDOW_UPDATE of 3 bytes", FrameType.WINDOW_UPDATE, 0, 0, "000001", `connection ${F}`],
  ["WINDOW_UPDATE of 0 on the connection", FrameType.WINDOW_UPDATE, 0, 0, "00000000", `connection ${P}`],
  ["WINDOW_UPDATE of 0 on a stream", FrameType.WINDOW_UPDATE, 0, 5, "00000000", `stream ${P}`],
  ["CONTINUATION on stream 0", FrameType.CONTINUATION, 0, 0, "82", `connection ${P}`],
  ["PUSH_PROMISE too short for its stream id", FrameType.PUSH_PROMISE, 0, 1, "000002", `connection ${F}`],
];

for (const [name, type, flags, streamId, payload, want] of invalid) {
  test(`rejects ${name} with ${want}`, () => {
    assert.equal(errorOf(parse(type, flags, streamId, payload)), want);
  });
}

test("parses padded DATA, leaving the padding out of the data but not out of flow control", () => {
  const frame = parse(FrameType.DATA, FrameFlag.PADDED | FrameFlag.END_STREAM, 1, "03 616263 000000");
  assert.deepEqual(frame.type === "DATA" && { data: [...frame.data], end: frame.endStream, flow: frame.flowControlledLength }, {
    data: [0x61, 0x62, 0x63], end: true, flow: 7,
  });
});

test("parses HEADERS with padding and priority", () => {
  const frame = parse(FrameType.HEADERS, FrameFlag.PADDED | FrameFlag.PRIORITY | FrameFlag.END_HEADERS, 3, "02 80000001 0f 8286 0000");
  assert.equal(frame.type, "HEADERS");
  if (frame.type !== "HEADERS") return;
  assert.deepEqual(frame.priority, { dependency: 1, exclusive: true, weight: 16 });
  assert.deepEqual([...frame.fragment], [0x82, 0x86]);
  assert.equal(frame.endHeaders, true);
  assert.equal(frame.endStream, false);
});

test("ignores the reserved bit of the stream identifier", () => {
  const bytes = hex("000004 08 00 80000001 00000010");
  const reader = new FrameReader(16_384);
  reader.push(bytes);
  assert.deepEqual(reader.next(), { type: "WINDOW_UPDATE", streamId: 1, increment: 16 });
});

test("keeps unknown SETTINGS identifiers for the connection to ignore", () => {
  const frame = parse(FrameType.SETTINGS, 0, 0, "00ff 00000001 0003 00000064");
  assert.deepEqual(frame, { type: "SETTINGS", ack: false, settings: [{ id: 0xff, value: 1 }, { id: SettingsId.MAX_CONCURRENT_STREAMS, value: 100 }] });
});

test("returns frames of unknown type as UNKNOWN", () => {
  const frame = parse(0x42, 0x7, 9, "abcd");
  assert.equal(frame.type, "UNKNOWN");
});

test("every frame written by FrameWriter parses back to the same values", () => {
  const w = new FrameWriter();
  const big = new Uint8Array(5000).fill(7);
  w.data(1, hex("010203"), false);
  w.data(1, big, true);
  w.data(3, hex("aa"), false, 4);
  w.headers(5, hex("8286"), true, 16_384, { dependency: 3, exclusive: false, weight: 256 });
  w.priority(7, { dependency: 0, exclusive: true, weight: 1 });
  w.rstStream(9, Http2ErrorCode.CANCEL);
  w.settings([{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 1 << 20 }]);
  w.settingsAck();
  w.ping(hex("0102030405060708"), true);
  w.goaway(11, Http2ErrorCode.ENHANCE_YOUR_CALM, new TextEncoder().encode("calm"));
  w.windowUpdate(0, 2 ** 31 - 1);
  w.pushPromise(1, 2, hex("82"));
  const reader = new FrameReader(16_384);
  reader.push(concat(w.take()));
  const got: unknown[] = [];
  for (let f = reader.next(); f !== undefined; f = reader.next()) {
    got.push(f.type === "DATA" ? { ...f, data: f.data.length } : f.type === "HEADERS" ? { ...f, fragment: [...f.fragment] } : f.type === "PING" ? { ...f, opaqueData: [...f.opaqueData] } : f.type === "GOAWAY" ? { ...f, debugData: new TextDecoder().decode(f.debugData) } : f.type === "PUSH_PROMISE" ? { ...f, fragment: [...f.fragment] } : f);
  }
  assert.deepEqual(got, [
    { type: "DATA", streamId: 1, endStream: false, data: 3, flowControlledLength: 3 },
    { type: "DATA", streamId: 1, endStream: true, data: 5000, flowControlledLength: 5000 },
    { type: "DATA", streamId: 3, endStream: false, data: 1, flowControlledLength: 6 },
    { type: "HEADERS", streamId: 5, endStream: true, endHeaders: true, priority: { dependency: 3, exclusive: false, weight: 256 }, fragment: [0x82, 0x86] },
    { type: "PRIORITY", streamId: 7, priority: { dependency: 0, exclusive: true, weight: 1 } },
    { type: "RST_STREAM", streamId: 9, errorCode: Http2ErrorCode.CANCEL },
    { type: "SETTINGS", ack: false, settings: [{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 1 << 20 }] },
    { type: "SETTINGS", ack: true, settings: [] },
    { type: "PING", ack: true, opaqueData: [1, 2, 3, 4, 5, 6, 7, 8] },
    { type: "GOAWAY", lastStreamId: 11, errorCode: Http2ErrorCode.ENHANCE_YOUR_CALM, debugData: "calm" },
    { type: "WINDOW_UPDATE", streamId: 0, increment: 2 ** 31 - 1 },
    { type: "PUSH_PROMISE", streamId: 1, endHeaders: true, promisedStreamId: 2, fragment: [0x82] },
  ]);
});

test("a large DATA payload is passed by reference, a small one copied into the batch", () => {
  const w = new FrameWriter();
  const big = new Uint8Array(4096);
  w.data(1, hex("01"), false);
  w.data(1, big, false);
  const chunks = w.take();
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1], big);
  assert.equal(chunks[0]!.length, 9 + 1 + 9);
  assert.deepEqual(w.take(), []);
});

/** The DATA frames (stream:hex payload) and other frame types the writer's batch holds. */
function dataFrames(w: FrameWriter): string[] {
  const reader = new FrameReader(16_384);
  reader.push(concat(w.take()));
  const frames: string[] = [];
  for (let f = reader.next(); f !== undefined; f = reader.next()) {
    if (f.type === "DATA") frames.push(`${f.streamId}:${Buffer.from(f.data).toString("hex")}${f.endStream ? ":end" : ""}`);
    else frames.push(f.type);
  }
  return frames;
}

test("small DATA on one stream joins the previous DATA frame while it fits and nothing came between", () => {
  const w = new FrameWriter();
  const max = 16;
  w.data(1, hex("0102"), false, 0, max);
  w.data(1, hex("0304"), false, 0, max); // joins
  w.data(3, hex("05"), false, 0, max); // another stream: a new frame
  w.data(3, new Uint8Array(16), false, 0, max); // would pass the max frame size: a new frame
  w.data(3, hex("06"), true, 0, max); // so would this one
  w.data(7, hex("0b"), false, 0, max);
  w.data(7, hex("0c"), true, 0, max); // joins, and the joined frame carries END_STREAM
  w.data(7, hex("07"), false, 0, max); // after END_STREAM nothing joins (a test writer may still send it)
  w.windowUpdate(0, 1);
  w.data(3, hex("08"), false, 0, max); // a frame came between
  w.data(3, hex("09"), false, 1, max); // padded frames stand alone
  w.data(3, hex("0a"), false); // no max frame size given: stands alone
  assert.deepEqual(dataFrames(w), ["1:01020304", "3:05", `3:${"00".repeat(16)}`, "3:06:end", "7:0b0c:end", "7:07", "WINDOW_UPDATE", "3:08", "3:09", "3:0a"]);
  w.data(5, hex("01"), false, 0, max);
  w.take();
  w.data(5, hex("02"), false, 0, max); // a new batch never reaches back into the last one
  assert.equal(w.take()[0]!.length, 9 + 1);
});

test("splits a header block over HEADERS and CONTINUATION frames at the max frame size", () => {
  const w = new FrameWriter();
  const block = new Uint8Array(40_000).map((_, i) => i & 0xff);
  w.headers(1, block, false, 16_384);
  const reader = new FrameReader(16_384);
  reader.push(concat(w.take()));
  const frames: Frame[] = [];
  for (let f = reader.next(); f !== undefined; f = reader.next()) if (f.type !== "error") frames.push(f);
  assert.deepEqual(frames.map((f) => [f.type, "endHeaders" in f ? f.endHeaders : undefined, "fragment" in f ? f.fragment.length : 0]), [
    ["HEADERS", false, 16_384],
    ["CONTINUATION", false, 16_384],
    ["CONTINUATION", true, 40_000 - 2 * 16_384],
  ]);
  const joined = concat(frames.map((f) => ("fragment" in f ? f.fragment : new Uint8Array(0))));
  assert.deepEqual(joined, block);
});

test("FrameReader reassembles frames split at every byte boundary", () => {
  const w = new FrameWriter();
  w.settings([{ id: SettingsId.MAX_FRAME_SIZE, value: 20_000 }]);
  w.data(1, new Uint8Array(3000).fill(9), true);
  w.ping(new Uint8Array(8), false);
  const bytes = concat(w.take());
  for (const step of [1, 2, 7, 9, 10, 1000]) {
    const reader = new FrameReader(16_384);
    const types: string[] = [];
    for (let i = 0; i < bytes.length; i += step) {
      reader.push(bytes.subarray(i, i + step));
      for (let f = reader.next(); f !== undefined; f = reader.next()) types.push(f.type === "DATA" ? `DATA ${f.data.length} ${f.data[2999]}` : f.type);
    }
    assert.deepEqual(types, ["SETTINGS", "DATA 3000 9", "PING"], `in steps of ${step}`);
    assert.equal(reader.bufferedBytes, 0);
  }
});

test("FrameReader refuses a frame longer than the max frame size from its header alone", () => {
  const reader = new FrameReader(16_384);
  reader.push(hex("004001 00 00 00000001")); // 16385 bytes declared, none sent
  const got = reader.next();
  assert.equal(got?.type === "error" && `${got.scope} ${got.code}`, `connection ${F}`);
  reader.push(new Uint8Array(100));
  assert.equal(reader.next(), undefined);
});

test("FrameReader accepts a frame of exactly the max frame size", () => {
  const w = new FrameWriter();
  w.data(1, new Uint8Array(16_384), false);
  const reader = new FrameReader(16_384);
  reader.push(concat(w.take()));
  const f = reader.next();
  assert.equal(f?.type === "DATA" && f.data.length, 16_384);
});

/** Writes `bytes` in place for `streamId`, as an encoder would. */
function writeInPlace(w: FrameWriter, streamId: number, bytes: Uint8Array, max = 16): void {
  const at = w.reserveData(streamId, bytes.length, max);
  w.buffer.set(bytes, at);
}

test("DATA written in place frames like data(), joining the stream's open DATA frame", () => {
  const w = new FrameWriter();
  writeInPlace(w, 1, hex("0102"));
  writeInPlace(w, 1, hex("0304")); // joins
  w.data(1, hex("05"), false, 0, 16); // data() joins a frame begun in place
  writeInPlace(w, 1, hex("06")); // and in place joins data()'s frame
  writeInPlace(w, 3, hex("07")); // another stream: a new frame
  writeInPlace(w, 3, new Uint8Array(16)); // past the max frame size: a new frame
  w.windowUpdate(0, 1);
  writeInPlace(w, 3, hex("08")); // a frame came between
  w.data(3, hex("09"), true, 0, 16); // and ends it
  assert.deepEqual(dataFrames(w), ["1:0102030405" + "06", "3:07", `3:${"00".repeat(16)}`, "WINDOW_UPDATE", "3:0809:end"]);
});

test("a released in-place DATA leaves the batch as it was, joined frame or new", () => {
  const w = new FrameWriter();
  writeInPlace(w, 1, hex("0102"));
  w.reserveData(1, 3, 16); // would join
  w.releaseData();
  w.reserveData(3, 2, 16); // would start a frame
  w.releaseData();
  writeInPlace(w, 1, hex("03")); // the open frame is still open
  assert.equal(w.pendingBytes, 9 + 3);
  w.reserveData(5, 4, 16);
  w.releaseData();
  w.data(5, hex("04"), false, 0, 16);
  assert.deepEqual(dataFrames(w), ["1:010203", "5:04"]);
});

test("in-place DATA that needs a new slab lands whole in it, and releases cleanly there", () => {
  const w = new FrameWriter();
  let sent = 0;
  const frames: string[] = [];
  for (let i = 0; i < 40; i++) {
    // 9 + 1000 bytes at a time: several slab switches, each on a reservation.
    const bytes = new Uint8Array(1000).fill(i);
    const at = w.reserveData(2 * i + 1, bytes.length, 16_384);
    if (i % 3 === 0) {
      w.releaseData();
      continue;
    }
    w.buffer.set(bytes, at);
    sent++;
  }
  const reader = new FrameReader(16_384);
  for (const chunk of w.take()) reader.push(chunk);
  for (let f = reader.next(); f !== undefined; f = reader.next()) {
    assert.equal(f.type, "DATA");
    if (f.type === "DATA") {
      assert.ok(f.data.every((b) => b === (f.streamId - 1) / 2), `stream ${f.streamId} holds its own bytes`);
      frames.push(String(f.streamId));
    }
  }
  assert.equal(frames.length, sent);
});

test("frames written across many slabs all parse back (no frame lands in a retired slab)", () => {
  const w = new FrameWriter();
  const reader = new FrameReader(16_384);
  let expected = 0;
  for (let round = 0; round < 3; round++) {
    for (let i = 1; i <= 20_000; i++) {
      switch (i % 5) {
        case 0: w.ping(new Uint8Array(8).fill(i & 0xff), false); break;
        case 1: w.rstStream(i, 8); break;
        case 2: w.windowUpdate(i, i); break;
        case 3: w.continuation(i, new Uint8Array(3), true); break;
        default: w.priority(i, { dependency: 0, exclusive: false, weight: 16 });
      }
      expected++;
    }
    for (const chunk of w.take()) reader.push(chunk);
  }
  let count = 0;
  for (let f = reader.next(); f !== undefined; f = reader.next()) {
    assert.notEqual(f.type, "error", JSON.stringify(f));
    count++;
  }
  assert.equal(count, expected);
});

test("full slabs are reported once as retired, for the allocator to hand out again", () => {
  const free: Uint8Array[] = [];
  let allocations = 0;
  const w = new FrameWriter((n) => {
    if (n === 64 * 1024 && free.length > 0) return free.pop()!;
    allocations++;
    return new Uint8Array(n);
  });
  const fill = () => {
    // 1,000 bytes per frame: enough frames to pass several 64 KiB slabs.
    for (let i = 0; i < 300; i++) w.data(1, new Uint8Array(1000), false);
  };
  fill();
  w.take();
  const retired = w.takeRetired();
  assert.ok(retired.length >= 2, `${retired.length} slabs retired`);
  assert.ok(retired.every((s) => s.length === 64 * 1024));
  assert.deepEqual(w.takeRetired(), [], "each retired slab is reported once");
  const before = allocations;
  free.push(...retired);
  // Enough to need every handed-back slab and then some.
  fill();
  fill();
  const buffers = new Set(w.take().map((c) => c.buffer));
  assert.ok(retired.every((s) => buffers.has(s.buffer)), "every handed-back slab was written into again");
  // The slab the first fill ended in is written on; beyond it and the handed-back ones, all are new.
  assert.equal(allocations - before, buffers.size - retired.length - 1, "new slabs only once the handed-back ones ran out");
});
