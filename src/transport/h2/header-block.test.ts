import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { HeaderBlockAssembler } from "./header-block.js";

const limits = { maxBytes: 10, maxFrames: 3, timeoutMs: 20 };
const bytes = (...values: number[]) => new Uint8Array(values);

test("joins HEADERS and CONTINUATION fragments into one block, with the HEADERS flags", () => {
  const assembler = new HeaderBlockAssembler(limits, () => assert.fail("timed out"));
  assert.equal(assembler.start(3, bytes(1, 2), true, false), undefined);
  assert.ok(assembler.inProgress);
  assert.equal(assembler.add(bytes(3)), undefined);
  const complete = assembler.finish();
  assert.deepEqual(complete, { streamId: 3, block: bytes(1, 2, 3), endStream: true, selfDependent: false });
  assert.ok(!assembler.inProgress);
});

test("refuses a block over maxFrames or maxBytes", () => {
  const frames = new HeaderBlockAssembler(limits, () => undefined);
  frames.start(1, bytes(1), false, false);
  frames.add(bytes(2));
  frames.add(bytes(3));
  assert.equal(frames.add(bytes(4)), "header block of stream 1 is over 3 frames");
  frames.stop();
  const size = new HeaderBlockAssembler(limits, () => assert.fail("timer runs for a refused block"));
  assert.equal(size.start(5, new Uint8Array(11), false, false), "header block of stream 5 is over 10 bytes");
});

test("reports a block not finished within timeoutMs", async () => {
  let message: string | undefined;
  const assembler = new HeaderBlockAssembler(limits, (why) => (message = why));
  assembler.start(7, bytes(1), false, false);
  await sleep(limits.timeoutMs * 3);
  assert.equal(message, "header block of stream 7 not finished within 20 ms");
});

test("no timeout once the block is finished, or after stop", async () => {
  const finished = new HeaderBlockAssembler(limits, () => assert.fail("finished block timed out"));
  finished.start(1, bytes(1), false, false);
  finished.finish();
  const stopped = new HeaderBlockAssembler(limits, () => assert.fail("stopped block timed out"));
  stopped.start(3, bytes(1), false, false);
  stopped.stop();
  await sleep(limits.timeoutMs * 3);
});
