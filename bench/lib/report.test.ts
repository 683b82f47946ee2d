import assert from "node:assert/strict";
import { test } from "node:test";
import { renderMarkdown, targetsTable } from "./report.js";
import type { Measurement, RunResults } from "./results.js";
import { evaluateTargets } from "./targets.js";

function unary(subject: string, rate: number, loadCpuPercent: number): Measurement {
  return {
    scenario: "server/unary-10B-c100", subject, rep: 1, rate, cpuUsPerOp: 1e6 / rate, loadCpuPercent,
    latency: { count: 10, p50Us: 1000, p99Us: 2000, p999Us: 3000 }, check: { ok: true, detail: "", loadCount: 10, serverCount: 10 },
  };
}

const measurements = [unary("server:grpc-ts", 25_000, 98.4), unary("server:grpc-js", 10_000, 35), unary("server:h2-bare", 20_000, 60)];

function row(markdown: string, startsWith: string): string {
  const found = markdown.split("\n").find((line) => line.startsWith(startsWith));
  assert.ok(found !== undefined, `no line starting with ${startsWith}`);
  return found;
}

test("the targets table names the issue of each target and shows a load-bound miss as such", () => {
  const markdown = targetsTable(evaluateTargets(measurements).filter((r) => r.target.scenario === "server/unary-10B-c100"));
  assert.match(row(markdown, "| issue |"), /\| issue \| target .* \| needed \| load CPU % \| result \|/);
  assert.equal(row(markdown, "| 6 | server unary 10B at 100 concurrent: calls/s"), "| 6 | server unary 10B at 100 concurrent: calls/s vs @grpc/grpc-js | 2.50x | >= 3x | **98** | load-bound (see CPU per call) |");
  assert.equal(row(markdown, "| 5 | server unary 10B at 100 concurrent: calls/s"), "| 5 | server unary 10B at 100 concurrent: calls/s vs bare node:http2 | 1.25x | >= 0.9x | **98** | **met** |");
  assert.equal(row(markdown, "| 6 | server unary 10B at 100 concurrent: CPU"), "| 6 | server unary 10B at 100 concurrent: CPU µs per call vs bare node:http2 | 0.80x | <= 0.333x | **98** | **missed** |");
});

test("server tables have a load CPU % column, bold when the load generator was saturated", () => {
  const run: RunResults = {
    meta: {
      startedAt: "2026-11-26T00:00:00.000Z", finishedAt: "2026-11-26T00:01:00.000Z", mode: "custom", reps: 1, warmupMs: 300, measureMs: 1000,
      grpcTsTransport: "h2", pingPongClient: "raw",
      machine: { cpu: "test", cores: 2, kernel: "6", loadAverageAtStart: [0, 0, 0], loadAverageAtEnd: [0, 0, 0] },
      versions: {}, scenarios: ["server/unary-10B-c100"],
    },
    measurements,
  };
  const markdown = renderMarkdown(run);
  assert.match(row(markdown, "| server | calls/s |"), /\| server CPU µs\/call \| load CPU % \| server RSS MB \|/);
  assert.match(row(markdown, "| grpc-ts (h2) |"), /\| 40\.0 \| \*\*98\*\* \| – \|/);
  assert.match(row(markdown, "| @grpc/grpc-js |"), /\| 100 \| 35 \| – \|/);
  assert.match(markdown, /a minimal HTTP\/2 client over node:net/);
});
