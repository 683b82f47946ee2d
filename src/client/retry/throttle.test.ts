/**
 * The retry token bucket (gRFC A6 "Throttling Retry Attempts and Hedged RPCs"):
 * full at the start, −1 per failure, +tokenRatio per success, capped at maxTokens,
 * retries allowed only while more than half the tokens remain.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RetryThrottle } from "./throttle.js";

type Step = "fail" | "ok";
const cases: { name: string; maxTokens: number; tokenRatio: number; steps: Step[]; tokens: number; allows: boolean }[] = [
  { name: "starts full and allows retries", maxTokens: 10, tokenRatio: 1, steps: [], tokens: 10, allows: true },
  { name: "four failures of ten leave 6: still allowed", maxTokens: 10, tokenRatio: 1, steps: ["fail", "fail", "fail", "fail"], tokens: 6, allows: true },
  { name: "five failures of ten leave exactly half: not allowed", maxTokens: 10, tokenRatio: 1, steps: Array(5).fill("fail"), tokens: 5, allows: false },
  { name: "never below zero", maxTokens: 3, tokenRatio: 1, steps: Array(10).fill("fail"), tokens: 0, allows: false },
  { name: "a success earns tokenRatio back", maxTokens: 10, tokenRatio: 0.5, steps: [...Array(5).fill("fail"), "ok"], tokens: 5.5, allows: true },
  { name: "never above maxTokens", maxTokens: 10, tokenRatio: 0.5, steps: ["fail", "ok", "ok", "ok"], tokens: 10, allows: true },
  { name: "a fractional bucket: 2.5 of 4 is more than half", maxTokens: 4, tokenRatio: 0.5, steps: ["fail", "fail", "ok", "ok", "ok", "fail"], tokens: 2.5, allows: true },
];

for (const c of cases) {
  test(`retry throttle: ${c.name}`, () => {
    const throttle = new RetryThrottle({ maxTokens: c.maxTokens, tokenRatio: c.tokenRatio });
    for (const step of c.steps) {
      if (step === "fail") throttle.recordFailure();
      else throttle.recordSuccess();
    }
    assert.equal(throttle.available, c.tokens);
    assert.equal(throttle.allowsRetry(), c.allows);
  });
}
