import assert from "node:assert/strict";
import { test } from "node:test";
import { ConnectionBackoff } from "./backoff.js";

test("backoff follows connection-backoff.md: 1 s, x1.6, capped at 120 s", () => {
  const backoff = new ConnectionBackoff({}, () => 0.5); // no jitter at the middle of the range
  const delays = Array.from({ length: 14 }, () => Math.round(backoff.nextDelayMs()));
  assert.deepEqual(delays.slice(0, 4), [1000, 1600, 2560, 4096]);
  assert.equal(delays.at(-1), 120_000);
});

test("jitter stays within ±20 % of the current backoff", () => {
  const low = new ConnectionBackoff({}, () => 0);
  const high = new ConnectionBackoff({}, () => 0.999999);
  assert.equal(low.nextDelayMs(), 800);
  assert.ok(Math.abs(high.nextDelayMs() - 1200) < 0.01);
});

test("the connect timeout is at least MIN_CONNECT_TIMEOUT (20 s)", () => {
  const backoff = new ConnectionBackoff();
  assert.equal(backoff.connectTimeoutMs(), 20_000);
});

test("reset returns to the initial backoff and options shorten everything for tests", () => {
  const backoff = new ConnectionBackoff({ initialBackoffMs: 10, maxBackoffMs: 40, minConnectTimeoutMs: 5 }, () => 0.5);
  assert.deepEqual([backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs(), backoff.nextDelayMs()].map(Math.round), [10, 16, 26, 40]);
  backoff.reset();
  assert.equal(Math.round(backoff.nextDelayMs()), 10);
  assert.equal(backoff.connectTimeoutMs(), 16);
});
