import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluateTargets } from "./report.js";
import type { Measurement } from "./results.js";
import { selectScenarios } from "./scenarios.js";

function rate(subject: string, rep: number, value: number, ok = true): Measurement {
  return { scenario: "server/server-stream-1000x1KiB", subject, rep, rate: value, check: { ok, detail: "" } };
}

const streamTarget = (measurements: Measurement[]) => evaluateTargets(measurements).find((r) => r.target.id === "server-stream-vs-grpc-js")!;

test("a target is met when the median of the per-rep ratios meets it, even if one rep misses", () => {
  const result = streamTarget([
    rate("server:grpc-ts", 1, 300), rate("server:grpc-js", 1, 100), // 3.0
    rate("server:grpc-ts", 2, 200), rate("server:grpc-js", 2, 100), // 2.0
    rate("server:grpc-ts", 3, 260), rate("server:grpc-js", 3, 100), // 2.6
  ]);
  assert.equal(result.status, "met");
  assert.deepEqual(result.ratio, { median: 2.6, min: 2, max: 3 });
  assert.equal(result.reps, 3);
});

test("a target is missed when the median ratio falls short", () => {
  const result = streamTarget([rate("server:grpc-ts", 1, 240), rate("server:grpc-js", 1, 100)]);
  assert.equal(result.status, "missed");
});

test("a measurement whose OK count check failed does not count towards a target", () => {
  const result = streamTarget([rate("server:grpc-ts", 1, 900, false), rate("server:grpc-js", 1, 100)]);
  assert.equal(result.status, "not measured");
});

test("lower-is-better targets (p99, memory) are met at or under the threshold", () => {
  const memory = (subject: string, rssBytes: number): Measurement => ({
    scenario: "server/idle-connections", subject, rep: 1, memoryPerUnit: { rssBytes, heapBytes: 0 }, check: { ok: true, detail: "" },
  });
  const results = evaluateTargets([memory("server:grpc-ts", 30_000), memory("server:grpc-js", 20_000)]);
  assert.equal(results.find((r) => r.target.id === "memory-per-connection")!.status, "missed");
  const better = evaluateTargets([memory("server:grpc-ts", 20_000), memory("server:grpc-js", 20_000)]);
  assert.equal(better.find((r) => r.target.id === "memory-per-connection")!.status, "met");
});

test("--only selects by id, by prefix and by side, and rejects unknown names", () => {
  assert.deepEqual(selectScenarios(["server/bidi-pingpong"], false).map((s) => s.id), ["server/bidi-pingpong"]);
  assert.deepEqual(selectScenarios(["client/unary-10B*"], false).map((s) => s.id), ["client/unary-10B-c1", "client/unary-10B-c100"]);
  assert.deepEqual(selectScenarios(["codec"], false).map((s) => s.id), ["codec/protobuf-order"]);
  assert.throws(() => selectScenarios(["server/nope"], false), /unknown scenario server\/nope/);
});

test("--quick keeps every scenario a target depends on but the 64 KiB ones (time)", () => {
  const quick = new Set(selectScenarios(undefined, true).map((s) => s.id));
  const needed = new Set(evaluateTargets([]).map((r) => r.target.scenario));
  const missing = [...needed].filter((id) => !quick.has(id)).sort();
  assert.deepEqual(missing, ["client/unary-64KiB-c100", "server/unary-64KiB-c100"]);
});
