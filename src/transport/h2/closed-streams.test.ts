import assert from "node:assert/strict";
import { test } from "node:test";
import { ClosedStreams } from "./closed-streams.js";

test("tells how each remembered stream closed", () => {
  const closed = new ClosedStreams();
  closed.remember(1, "ended");
  closed.remember(3, "reset-local");
  closed.remember(5, "reset-remote");
  assert.equal(closed.how(1), "ended");
  assert.equal(closed.how(3), "reset-local");
  assert.equal(closed.how(5), "reset-remote");
});

test("knows nothing of a stream never closed", () => {
  const closed = new ClosedStreams();
  closed.remember(1, "ended");
  assert.equal(closed.how(7), undefined);
});

test("forgets the oldest stream after 1024 newer ones, and only that one", () => {
  const closed = new ClosedStreams();
  for (let id = 1; id <= 2 * 1025; id += 2) closed.remember(id, "ended");
  assert.equal(closed.how(1), undefined);
  assert.equal(closed.how(3), "ended");
  assert.equal(closed.how(2 * 1025 - 1), "ended");
});
