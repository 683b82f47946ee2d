import assert from "node:assert/strict";
import { test } from "node:test";
import { percentileOfSorted, SampleBuffer, spread } from "./stats.js";

const cases = [
  // [samples, percentile, want] (nearest rank)
  [[5], 50, 5],
  [[1, 2, 3, 4], 50, 2],
  [[1, 2, 3, 4], 99, 4],
  [[1, 2, 3, 4], 100, 4],
  [Array.from({ length: 1000 }, (_, i) => i + 1), 99.9, 999],
  [Array.from({ length: 999 }, (_, i) => i + 1), 99.9, 999],
] as const;
for (const [samples, p, want] of cases) {
  test(`p${p} of ${samples.length} sorted samples is ${want}`, () => {
    assert.equal(percentileOfSorted(samples, p), want);
  });
}

test("the percentile of no samples is NaN, not 0", () => {
  assert.ok(Number.isNaN(percentileOfSorted([], 50)));
});

test("spread gives median, min and max and ignores non-finite values", () => {
  assert.deepEqual(spread([3, 1, NaN, 2, Infinity]), { median: 2, min: 1, max: 3 });
  assert.deepEqual(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4 });
  assert.equal(spread([NaN]), undefined);
});

test("SampleBuffer keeps every sample past its first allocation", () => {
  const buffer = new SampleBuffer();
  for (let i = 200_000; i >= 1; i--) buffer.push(i);
  assert.equal(buffer.size, 200_000);
  assert.deepEqual(buffer.summarize(), { count: 200_000, p50Us: 100_000, p99Us: 198_000, p999Us: 199_800 });
});
