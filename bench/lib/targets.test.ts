import assert from "node:assert/strict";
import { test } from "node:test";
import type { Measurement } from "./results.js";
import { evaluateTargets, targets } from "./targets.js";

function measured(scenario: string, subject: string, rep: number, figures: Partial<Measurement>, ok = true): Measurement {
  return { scenario, subject, rep, check: { ok, detail: "" }, ...figures };
}

const stream = (subject: string, rep: number, rate: number, ok = true) => measured("server/server-stream-1000x1KiB", subject, rep, { rate }, ok);
const unary1KiB = (subject: string, figures: Partial<Measurement>) => measured("server/unary-1KiB-c100", subject, 1, figures);
const result = (measurements: Measurement[], id: string) => {
  const found = evaluateTargets(measurements).find((r) => r.target.id === id);
  assert.ok(found !== undefined, `no target ${id}`);
  return found;
};

test("a target is met when the median of the per-rep ratios meets it, even if one rep misses", () => {
  const got = result([
    stream("server:grpc-ts", 1, 300), stream("server:grpc-js", 1, 100), // 3.0
    stream("server:grpc-ts", 2, 200), stream("server:grpc-js", 2, 100), // 2.0
    stream("server:grpc-ts", 3, 260), stream("server:grpc-js", 3, 100), // 2.6
  ], "server-stream-vs-grpc-js");
  assert.equal(got.status, "met");
  assert.deepEqual(got.ratio, { median: 2.6, min: 2, max: 3 });
  assert.equal(got.reps, 3);
});

test("a target is missed when the median ratio falls short", () => {
  assert.equal(result([stream("server:grpc-ts", 1, 240), stream("server:grpc-js", 1, 100)], "server-stream-vs-grpc-js").status, "missed");
});

test("the same measurements meet issue 5's 2.5x streaming target and miss issue 6's 5x", () => {
  const runs = [stream("server:grpc-ts", 1, 400), stream("server:grpc-js", 1, 100)];
  assert.equal(result(runs, "server-stream-vs-grpc-js").status, "met");
  assert.equal(result(runs, "server-stream-vs-grpc-js-5x").status, "missed");
});

test("a measurement whose OK count check failed does not count towards a target", () => {
  assert.equal(result([stream("server:grpc-ts", 1, 900, false), stream("server:grpc-js", 1, 100)], "server-stream-vs-grpc-js").status, "not measured");
});

test("lower-is-better targets (p99, memory) are met at or under the threshold", () => {
  const memory = (subject: string, rssBytes: number) => measured("server/idle-connections", subject, 1, { memoryPerUnit: { rssBytes, heapBytes: 0 } });
  assert.equal(result([memory("server:grpc-ts", 30_000), memory("server:grpc-js", 20_000)], "memory-per-connection").status, "missed");
  assert.equal(result([memory("server:grpc-ts", 20_000), memory("server:grpc-js", 20_000)], "memory-per-connection").status, "met");
});

const cpuCases = [[10, "met"], [11, "met"], [11.2, "missed"]] as const;
for (const [grpcTsCpuUs, want] of cpuCases) {
  test(`CPU per call ${grpcTsCpuUs} µs against bare node:http2's 33 µs is ${want} (at most 1/3)`, () => {
    const got = result([unary1KiB("server:grpc-ts", { cpuUsPerOp: grpcTsCpuUs }), unary1KiB("server:h2-bare", { cpuUsPerOp: 33 })], "server-unary-1KiB-cpu-vs-bare");
    assert.equal(got.status, want);
    assert.equal(got.target.metric, "cpu");
  });
}

test("p50 targets compare the median latency of one call at a time, server and client", () => {
  const latency = (p50Us: number) => ({ latency: { count: 100, p50Us, p99Us: 10 * p50Us, p999Us: 20 * p50Us } });
  const server = [measured("server/unary-10B-c1", "server:grpc-ts", 1, latency(90)), measured("server/unary-10B-c1", "server:grpc-js", 1, latency(100))];
  assert.equal(result(server, "server-unary-10B-c1-p50").status, "met");
  const client = [measured("client/unary-1KiB-c1", "client:grpc-ts", 1, latency(120)), measured("client/unary-1KiB-c1", "client:grpc-js", 1, latency(100))];
  const got = result(client, "client-unary-1KiB-c1-p50");
  assert.equal(got.status, "missed");
  assert.equal(got.ratio?.median, 1.2);
});

test("a calls/s target missed while h2load used >= 90% of its core is load-bound, not missed", () => {
  const runs = [unary1KiB("server:grpc-ts", { rate: 25_000, loadCpuPercent: 97 }), unary1KiB("server:grpc-js", { rate: 10_000, loadCpuPercent: 40 })];
  const got = result(runs, "server-unary-1KiB-vs-grpc-js");
  assert.equal(got.status, "load-bound");
  assert.deepEqual(got.loadCpuPercent, { median: 97, min: 97, max: 97 });
});

test("below 90% load CPU a short calls/s target stays missed", () => {
  const runs = [unary1KiB("server:grpc-ts", { rate: 25_000, loadCpuPercent: 89 }), unary1KiB("server:grpc-js", { rate: 10_000 })];
  assert.equal(result(runs, "server-unary-1KiB-vs-grpc-js").status, "missed");
});

test("load-bound needs the median repetition saturated: one saturated rep of three is not enough", () => {
  const runs = [1, 2, 3].flatMap((rep) => [
    measured("server/unary-10B-c100", "server:grpc-ts", rep, { rate: 20_000, loadCpuPercent: rep === 1 ? 99 : 60 }),
    measured("server/unary-10B-c100", "server:grpc-js", rep, { rate: 10_000 }),
  ]);
  assert.equal(result(runs, "server-unary-10B-vs-grpc-js").status, "missed");
});

test("a met target stays met, and a missed CPU target stays missed, however busy the load was", () => {
  const runs = [
    unary1KiB("server:grpc-ts", { rate: 40_000, cpuUsPerOp: 20, loadCpuPercent: 99 }),
    unary1KiB("server:grpc-js", { rate: 10_000 }),
    unary1KiB("server:h2-bare", { rate: 20_000, cpuUsPerOp: 30 }),
  ];
  assert.equal(result(runs, "server-unary-1KiB-vs-grpc-js").status, "met");
  assert.equal(result(runs, "server-unary-1KiB-cpu-vs-bare").status, "missed");
});

test("every target names the issues asking for it, ids are unique, and memory serves both issues", () => {
  assert.equal(new Set(targets.map((t) => t.id)).size, targets.length);
  for (const t of targets) assert.ok(t.issues.length > 0 && t.issues.every((i) => i === 5 || i === 6), t.id);
  const memory = targets.filter((t) => t.metric === "memory");
  assert.deepEqual(memory.map((t) => t.issues), [[5, 6], [5, 6]]);
  assert.deepEqual(
    targets.filter((t) => t.issues.includes(6) && t.metric === "rate" && t.scenario.startsWith("server/") && !t.scenario.includes("unary")).map((t) => t.scenario),
    ["server/server-stream-1000x1KiB", "server/bidi-stream-1000x1KiB", "server/bidi-pingpong"],
  );
});
