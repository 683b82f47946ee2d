import assert from "node:assert/strict";
import { test } from "node:test";
import { scenarios, selectScenarios } from "./scenarios.js";
import { targets } from "./targets.js";

test("--only selects by id, by prefix and by side, and rejects unknown names", () => {
  assert.deepEqual(selectScenarios(["server/bidi-pingpong"], false).map((s) => s.id), ["server/bidi-pingpong"]);
  assert.deepEqual(selectScenarios(["server/bidi*"], false).map((s) => s.id), ["server/bidi-stream-1000x1KiB", "server/bidi-pingpong"]);
  assert.deepEqual(selectScenarios(["client/unary-10B*"], false).map((s) => s.id), ["client/unary-10B-c1", "client/unary-10B-c100"]);
  assert.deepEqual(selectScenarios(["codec"], false).map((s) => s.id), ["codec/protobuf-order"]);
  assert.throws(() => selectScenarios(["server/nope"], false), /unknown scenario server\/nope/);
});

test("every target refers to a scenario of the suite", () => {
  const ids = new Set(scenarios.map((s) => s.id));
  assert.deepEqual(targets.filter((t) => !ids.has(t.scenario)).map((t) => t.id), []);
});

test("--quick keeps every scenario a target depends on but the 64 KiB ones (time)", () => {
  const quick = new Set(selectScenarios(undefined, true).map((s) => s.id));
  const needed = new Set(targets.map((t) => t.scenario));
  const missing = [...needed].filter((id) => !quick.has(id)).sort();
  assert.deepEqual(missing, ["client/unary-64KiB-c100", "server/unary-64KiB-c100"]);
});

test("the bidi streaming scenario carries 1,000 framed 1 KiB messages per call on 10 calls, for every gRPC server", () => {
  const bidi = scenarios.find((s) => s.id === "server/bidi-stream-1000x1KiB");
  assert.ok(bidi?.kind === "h2load");
  assert.deepEqual([bidi.method, bidi.size, bidi.messagesPerCall, bidi.concurrency, bidi.quick], ["Bidi", 1024, 1000, 10, true]);
  assert.deepEqual(bidi.servers, ["grpc-ts", "grpc-js", "connect", "h2-bare"]);
});
