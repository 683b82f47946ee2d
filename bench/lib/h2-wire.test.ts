import assert from "node:assert/strict";
import { test } from "node:test";
import { FrameFlag, FrameType, HpackDecoder, SettingsId } from "../../src/protocol/http2/index.js";
import {
  encodeFrame, encodeGoaway, encodeLiteralHeaderBlock, encodeSettings, encodeWindowUpdate, H2FrameSplitter, parseSettings, readUint32, unpaddedContent,
  type H2Frame,
} from "./h2-wire.js";

const requestFields = [
  [":method", "POST"], [":scheme", "http"], [":path", "/grpcts.bench.Bench/Bidi"], [":authority", "127.0.0.1:40000"],
  ["content-type", "application/grpc"], ["te", "trailers"],
] as const;

test("the literal header block decodes to the same fields and leaves the decoder's dynamic table empty", () => {
  const decoder = new HpackDecoder();
  for (let i = 0; i < 2; i++) {
    const got = decoder.decode(encodeLiteralHeaderBlock(requestFields));
    assert.ok(got.ok);
    assert.deepEqual({ ...got.headers }, Object.fromEntries(requestFields));
    assert.equal(decoder.tableLength, 0);
  }
});

for (const length of [0, 126, 127, 128, 300, 20_000]) {
  test(`a ${length}-byte value's length is a valid HPACK integer with a 7-bit prefix`, () => {
    const got = new HpackDecoder().decode(encodeLiteralHeaderBlock([["x-long", "v".repeat(length)]]));
    assert.ok(got.ok);
    assert.equal(got.headers["x-long"], "v".repeat(length));
  });
}

test("frames carry a 24-bit length, type, flags and a 31-bit stream id", () => {
  assert.deepEqual([...encodeFrame(FrameType.DATA, FrameFlag.END_STREAM, 0x7fffffff, Buffer.from([1, 2]))], [0, 0, 2, 0, 1, 0x7f, 0xff, 0xff, 0xff, 1, 2]);
  assert.deepEqual([...encodeWindowUpdate(3, 2 ** 31 - 1)], [0, 0, 4, 8, 0, 0, 0, 0, 3, 0x7f, 0xff, 0xff, 0xff]);
  assert.deepEqual([...encodeGoaway(0, 1)].slice(9), [0, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(readUint32(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, true), 2 ** 31 - 1);
  assert.equal(readUint32(Buffer.from([0xff, 0xff, 0xff, 0xff]), 0, false), 2 ** 32 - 1);
});

test("SETTINGS round-trips, and a payload that is not a multiple of 6 is refused", () => {
  const frame = encodeSettings([[SettingsId.ENABLE_PUSH, 0], [SettingsId.INITIAL_WINDOW_SIZE, 2 ** 31 - 1]]);
  assert.deepEqual(parseSettings(frame.subarray(9)), [[SettingsId.ENABLE_PUSH, 0], [SettingsId.INITIAL_WINDOW_SIZE, 2 ** 31 - 1]]);
  assert.throws(() => parseSettings(Buffer.alloc(5)), /not a multiple of 6/);
});

test("the splitter yields the same frames however the bytes are cut", () => {
  const stream = Buffer.concat([
    encodeSettings([[SettingsId.MAX_FRAME_SIZE, 16_384]]),
    encodeFrame(FrameType.HEADERS, FrameFlag.END_HEADERS, 1, encodeLiteralHeaderBlock(requestFields)),
    encodeFrame(FrameType.DATA, 0, 1, Buffer.from("hello")),
    encodeFrame(FrameType.DATA, FrameFlag.END_STREAM, 1),
  ]);
  const summary = (frames: H2Frame[]) => frames.map((f) => `${f.type}/${f.flags}/${f.streamId}/${f.payload.toString("hex")}`);
  const whole: H2Frame[] = [];
  new H2FrameSplitter(16_384).push(stream, (f) => whole.push(f));
  assert.equal(whole.length, 4);
  for (const step of [1, 2, 7, 9, 10, 64]) {
    const frames: H2Frame[] = [];
    const splitter = new H2FrameSplitter(16_384);
    for (let i = 0; i < stream.length; i += step) splitter.push(stream.subarray(i, i + step), (f) => frames.push(f));
    assert.deepEqual(summary(frames), summary(whole), `cut every ${step} bytes`);
  }
});

test("the splitter refuses a frame longer than our SETTINGS_MAX_FRAME_SIZE", () => {
  assert.throws(() => new H2FrameSplitter(16_384).push(encodeFrame(FrameType.DATA, 0, 1, Buffer.alloc(16_385)), () => undefined), /16385 bytes/);
});

test("padding and priority fields are stripped from DATA and HEADERS, and bad pad lengths refused", () => {
  const padded = (type: number, flags: number, body: number[]): H2Frame => ({ type, flags, streamId: 1, payload: Buffer.from(body) });
  assert.deepEqual([...unpaddedContent(padded(FrameType.DATA, FrameFlag.PADDED, [2, 0xaa, 0xbb, 0, 0]))], [0xaa, 0xbb]);
  assert.deepEqual([...unpaddedContent(padded(FrameType.HEADERS, FrameFlag.PADDED | FrameFlag.PRIORITY, [1, 0, 0, 0, 3, 15, 0x88, 0]))], [0x88]);
  assert.deepEqual([...unpaddedContent(padded(FrameType.HEADERS, FrameFlag.PRIORITY, [0, 0, 0, 3, 15, 0x88]))], [0x88]);
  assert.deepEqual([...unpaddedContent(padded(FrameType.DATA, 0, [1, 2]))], [1, 2]);
  assert.throws(() => unpaddedContent(padded(FrameType.DATA, FrameFlag.PADDED, [3, 0, 0])), /pad length 3/);
});
