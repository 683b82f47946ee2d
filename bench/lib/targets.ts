/**
 * The targets of issues 5 and 6, each a ratio of grpc-ts to a baseline measured in
 * the same repetition, and their evaluation: met when the median of the per-rep
 * ratios passes. A throughput target missed while the load generator's core was
 * saturated is "load-bound", not missed: the load, not the server, set the rate, so
 * CPU per call is the figure to judge by, as issue 6 allows. Pure: no I/O.
 */
import type { Measurement } from "./results.js";
import { spread, type Spread } from "./stats.js";

export type IssueNumber = 5 | 6;

/** Which figure of a measurement a target compares. */
export type TargetMetric = "rate" | "p50" | "p99" | "cpu" | "memory";

export interface Target {
  id: string;
  /** The issues that ask for this target; one row serves both when they ask the same. */
  issues: readonly IssueNumber[];
  description: string;
  scenario: string;
  metric: TargetMetric;
  /** "server:grpc-ts" or "client:grpc-ts", over `baseline`, per repetition. */
  subject: string;
  baseline: string;
  /** Met when the median ratio is >= (higher is better) or <= (lower is better) `threshold`. */
  compare: ">=" | "<=";
  threshold: number;
}

/** A load generator using at least this share of its core (core 0) is what limits the rate. */
export const loadSaturatedPercent = 90;

const server = "server:grpc-ts";
const client = "client:grpc-ts";
const grpcJsServer = "server:grpc-js";
const grpcJsClient = "client:grpc-js";
const bareServer = "server:h2-bare";
const smallSizes = ["10B", "1KiB"] as const;
const allSizes = ["10B", "1KiB", "64KiB"] as const;

const issue5: Target[] = [
  ...["1KiB", "10B"].map((size): Target => ({
    id: `server-unary-${size}-vs-bare`, issues: [5], description: `server unary ${size} at 100 concurrent: calls/s vs bare node:http2`,
    scenario: `server/unary-${size}-c100`, metric: "rate", subject: server, baseline: bareServer, compare: ">=", threshold: 0.9,
  })),
  {
    id: "server-stream-vs-grpc-js", issues: [5], description: "server streaming 1000x1KiB: messages/s vs @grpc/grpc-js",
    scenario: "server/server-stream-1000x1KiB", metric: "rate", subject: server, baseline: grpcJsServer, compare: ">=", threshold: 2.5,
  },
  {
    id: "server-pingpong-vs-grpc-js", issues: [5], description: "bidi ping-pong: messages/s vs @grpc/grpc-js",
    scenario: "server/bidi-pingpong", metric: "rate", subject: server, baseline: grpcJsServer, compare: ">=", threshold: 2.5,
  },
  ...allSizes.map((size): Target => ({
    id: `client-unary-${size}-vs-grpc-js`, issues: [5], description: `client unary ${size} at 100 concurrent: calls/s vs @grpc/grpc-js client`,
    scenario: `client/unary-${size}-c100`, metric: "rate", subject: client, baseline: grpcJsClient, compare: ">=", threshold: 1.5,
  })),
  ...allSizes.map((size): Target => ({
    id: `server-unary-${size}-p99`, issues: [5], description: `server unary ${size} at 100 concurrent: p99 latency vs @grpc/grpc-js`,
    scenario: `server/unary-${size}-c100`, metric: "p99", subject: server, baseline: grpcJsServer, compare: "<=", threshold: 1,
  })),
  ...allSizes.map((size): Target => ({
    id: `client-unary-${size}-p99`, issues: [5], description: `client unary ${size} at 100 concurrent: p99 latency vs @grpc/grpc-js client`,
    scenario: `client/unary-${size}-c100`, metric: "p99", subject: client, baseline: grpcJsClient, compare: "<=", threshold: 1,
  })),
  {
    id: "memory-per-connection", issues: [5, 6], description: "memory (RSS) per idle connection vs @grpc/grpc-js",
    scenario: "server/idle-connections", metric: "memory", subject: server, baseline: grpcJsServer, compare: "<=", threshold: 1,
  },
  {
    id: "memory-per-stream", issues: [5, 6], description: "memory (RSS) per open stream vs @grpc/grpc-js",
    scenario: "server/open-streams", metric: "memory", subject: server, baseline: grpcJsServer, compare: "<=", threshold: 1,
  },
];

const issue6: Target[] = [
  ...["1KiB", "10B"].map((size): Target => ({
    id: `server-unary-${size}-cpu-vs-bare`, issues: [6], description: `server unary ${size} at 100 concurrent: CPU µs per call vs bare node:http2`,
    scenario: `server/unary-${size}-c100`, metric: "cpu", subject: server, baseline: bareServer, compare: "<=", threshold: 1 / 3,
  })),
  ...["1KiB", "10B"].map((size): Target => ({
    id: `server-unary-${size}-vs-grpc-js`, issues: [6], description: `server unary ${size} at 100 concurrent: calls/s vs @grpc/grpc-js`,
    scenario: `server/unary-${size}-c100`, metric: "rate", subject: server, baseline: grpcJsServer, compare: ">=", threshold: 3,
  })),
  {
    id: "server-stream-vs-grpc-js-5x", issues: [6], description: "server streaming 1000x1KiB: messages/s vs @grpc/grpc-js",
    scenario: "server/server-stream-1000x1KiB", metric: "rate", subject: server, baseline: grpcJsServer, compare: ">=", threshold: 5,
  },
  {
    id: "server-bidi-stream-vs-grpc-js", issues: [6], description: "bidi streaming 1000x1KiB: messages/s vs @grpc/grpc-js",
    scenario: "server/bidi-stream-1000x1KiB", metric: "rate", subject: server, baseline: grpcJsServer, compare: ">=", threshold: 5,
  },
  {
    id: "server-pingpong-vs-grpc-js-5x", issues: [6], description: "bidi ping-pong: messages/s vs @grpc/grpc-js",
    scenario: "server/bidi-pingpong", metric: "rate", subject: server, baseline: grpcJsServer, compare: ">=", threshold: 5,
  },
  ...allSizes.map((size): Target => ({
    id: `client-unary-${size}-vs-grpc-js-3x`, issues: [6], description: `client unary ${size} at 100 concurrent: calls/s vs @grpc/grpc-js client`,
    scenario: `client/unary-${size}-c100`, metric: "rate", subject: client, baseline: grpcJsClient, compare: ">=", threshold: 3,
  })),
  ...smallSizes.map((size): Target => ({
    id: `server-unary-${size}-c1-p50`, issues: [6], description: `server unary ${size}, one call at a time: p50 latency vs @grpc/grpc-js`,
    scenario: `server/unary-${size}-c1`, metric: "p50", subject: server, baseline: grpcJsServer, compare: "<=", threshold: 1,
  })),
  ...smallSizes.map((size): Target => ({
    id: `client-unary-${size}-c1-p50`, issues: [6], description: `client unary ${size}, one call at a time: p50 latency vs @grpc/grpc-js client`,
    scenario: `client/unary-${size}-c1`, metric: "p50", subject: client, baseline: grpcJsClient, compare: "<=", threshold: 1,
  })),
];

export const targets: readonly Target[] = [...issue5, ...issue6];

export type TargetStatus = "met" | "missed" | "load-bound" | "not measured";

export interface TargetResult {
  target: Target;
  ratio: Spread | undefined;
  /** Repetitions in which both subjects were measured. */
  reps: number;
  /** The load generator's share of its core during the subject's runs in those repetitions (server-side load only). */
  loadCpuPercent: Spread | undefined;
  status: TargetStatus;
}

function targetValue(m: Measurement | undefined, target: Target): number | undefined {
  if (m === undefined || m.error !== undefined || !m.check.ok) return undefined;
  switch (target.metric) {
    case "rate":
      return m.rate;
    case "p50":
      return m.latency?.p50Us;
    case "p99":
      return m.latency?.p99Us;
    case "cpu":
      return m.cpuUsPerOp;
    case "memory":
      return m.memoryPerUnit?.rssBytes;
    default:
      target.metric satisfies never;
      return undefined;
  }
}

function passes(target: Target, ratio: number): boolean {
  return target.compare === ">=" ? ratio >= target.threshold : ratio <= target.threshold;
}

/** Evaluates one target over the repetitions of `measurements`. */
export function evaluateTarget(target: Target, measurements: readonly Measurement[]): TargetResult {
  const ratios: number[] = [];
  const loads: number[] = [];
  const reps = new Set(measurements.filter((m) => m.scenario === target.scenario).map((m) => m.rep));
  for (const rep of reps) {
    const find = (subject: string) => measurements.find((m) => m.scenario === target.scenario && m.subject === subject && m.rep === rep);
    const measured = find(target.subject);
    const subject = targetValue(measured, target);
    const baseline = targetValue(find(target.baseline), target);
    if (subject === undefined || baseline === undefined || baseline <= 0) continue;
    ratios.push(subject / baseline);
    if (measured?.loadCpuPercent !== undefined) loads.push(measured.loadCpuPercent);
  }
  const ratio = spread(ratios);
  const loadCpuPercent = spread(loads);
  let status: TargetStatus;
  if (ratio === undefined) status = "not measured";
  else if (passes(target, ratio.median)) status = "met";
  else if (target.metric === "rate" && loadCpuPercent !== undefined && loadCpuPercent.median >= loadSaturatedPercent) status = "load-bound";
  else status = "missed";
  return { target, ratio, reps: ratios.length, loadCpuPercent, status };
}

/** Every target, in the order of `targets` (issue 5's, then issue 6's). */
export function evaluateTargets(measurements: readonly Measurement[]): TargetResult[] {
  return targets.map((target) => evaluateTarget(target, measurements));
}
