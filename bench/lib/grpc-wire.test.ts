import assert from "node:assert/strict";
import { test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { PayloadSchema, StreamRequestSchema, SummarySchema } from "../gen/bench_pb.js";
import { decodeTwoVarints, encodePayload, encodeStreamRequest, encodeSummary, frameMessage, FrameReader, payloadBodyLength } from "./grpc-wire.js";

for (const size of [0, 1, 127, 128, 1024, 65536]) {
  test(`a hand-encoded Payload of ${size} bytes is what @bufbuild/protobuf encodes`, () => {
    const body = new Uint8Array(size).fill(9);
    const bytes = encodePayload(body);
    assert.deepEqual(new Uint8Array(bytes), toBinary(PayloadSchema, create(PayloadSchema, { body })));
    assert.equal(payloadBodyLength(bytes), size);
  });
}

test("StreamRequest and Summary encode as @bufbuild/protobuf reads them", () => {
  assert.deepEqual(fromBinary(StreamRequestSchema, encodeStreamRequest(1000, 1024)), create(StreamRequestSchema, { count: 1000, size: 1024 }));
  assert.deepEqual(fromBinary(SummarySchema, encodeSummary(3, 300)), create(SummarySchema, { count: 3, bytes: 300n }));
});

test("decodeTwoVarints reads fields 1 and 2 written by @bufbuild/protobuf", () => {
  const bytes = toBinary(SummarySchema, create(SummarySchema, { count: 70000, bytes: 5_000_000_000n }));
  assert.deepEqual(decodeTwoVarints(bytes), [70000, 5_000_000_000]);
});

test("FrameReader reassembles messages split across chunks at every offset", () => {
  const frames = Buffer.concat([frameMessage(Buffer.from("hello")), frameMessage(Buffer.alloc(0)), frameMessage(Buffer.from("world!"))]);
  for (let cut = 0; cut <= frames.length; cut++) {
    const got: string[] = [];
    const reader = new FrameReader((payload) => got.push(payload.toString()));
    reader.push(frames.subarray(0, cut));
    reader.push(frames.subarray(cut));
    assert.deepEqual(got, ["hello", "", "world!"], `cut at ${cut}`);
    assert.equal(reader.midMessage, false);
  }
});

test("FrameReader refuses a compressed frame: nothing in the bench compresses", () => {
  const frame = frameMessage(Buffer.from("x"));
  frame[0] = 1;
  assert.throws(() => new FrameReader(() => undefined).push(frame), /unexpected frame flags 1/);
});
