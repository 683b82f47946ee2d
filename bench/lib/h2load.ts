/**
 * Drives a server with h2load (nghttp2's load generator, written in C): gRPC as a
 * POST of a prebuilt framed body with content-type application/grpc and te: trailers,
 * REST with --h1. Parses its summary and its per-request --log-file, and reports
 * its own CPU time over the run (a saturated h2load, not the server, sets the rate).
 * h2load counts any HTTP 2xx as success; callers compare with the server's own count.
 */
import { readFileSync, rmSync } from "node:fs";
import { runPinnedTool } from "./children.js";
import { SampleBuffer, type LatencySummary } from "./stats.js";

export interface H2loadOptions {
  url: string;
  /** -c: connections. */
  connections: number;
  /** -m: concurrent streams per connection (HTTP/1.1: 1, no pipelining). */
  streamsPerConnection: number;
  /** -d: the request body sent with every request. */
  bodyFile: string;
  /** -H: extra request headers. */
  headers: readonly string[];
  /** --h1: HTTP/1.1 instead of h2c. */
  h1: boolean;
  /** -n: exact number of requests (all complete), or -D: a duration (in-flight ones are dropped). */
  run: { requests: number } | { durationMs: number };
  /** --log-file: per-request latencies, parsed into percentiles. */
  logFile?: string;
  core: number;
  timeoutMs: number;
}

export interface H2loadResult {
  /** Requests that got an HTTP status of 2xx: h2load's "succeeded". */
  succeeded: number;
  failed: number;
  errored: number;
  elapsedSeconds: number;
  requestsPerSecond: number;
  latency: LatencySummary | undefined;
  /** h2load's own CPU time (user + system) over its whole run, as a percentage of one core. */
  cpuPercent: number;
}

export async function runH2load(options: H2loadOptions): Promise<H2loadResult> {
  const args = [
    "-t", "1",
    "-c", String(options.connections),
    "-m", String(options.streamsPerConnection),
    "-d", options.bodyFile,
    ...options.headers.flatMap((h) => ["-H", h]),
    ...(options.h1 ? ["--h1"] : []),
    ...("requests" in options.run ? ["-n", String(options.run.requests)] : ["-D", `${Math.round(options.run.durationMs)}ms`]),
    ...(options.logFile === undefined ? [] : ["--log-file", options.logFile]),
    options.url,
  ];
  if (options.logFile !== undefined) rmSync(options.logFile, { force: true });
  const result = await runPinnedTool(options.core, "h2load", args, options.timeoutMs);
  if (result.code !== 0) throw new Error(`h2load exited with ${result.code}: ${result.stderr.slice(-2000)}${result.stdout.slice(-2000)}`);
  const parsed = parseH2loadSummary(result.stdout);
  const latency = options.logFile === undefined ? undefined : readH2loadLog(options.logFile);
  return { ...parsed, latency, cpuPercent: (100 * result.cpuUs) / (result.wallMs * 1000) };
}

const durationUnits: Record<string, number> = { s: 1, ms: 1e-3, us: 1e-6 };

/** Reads "finished in …" and "requests: …" from h2load's summary. */
export function parseH2loadSummary(stdout: string): Omit<H2loadResult, "latency" | "cpuPercent"> {
  const finished = /^finished in ([\d.]+)(s|ms|us), ([\d.]+) req\/s/m.exec(stdout);
  const requests = /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored/m.exec(stdout);
  if (finished === null || requests === null) throw new Error(`unexpected h2load output:\n${stdout.slice(-2000)}`);
  return {
    elapsedSeconds: Number(finished[1]) * durationUnits[finished[2]!]!,
    requestsPerSecond: Number(finished[3]),
    succeeded: Number(requests[4]),
    failed: Number(requests[5]),
    errored: Number(requests[6]),
  };
}

/** Latency percentiles from h2load's --log-file: "<start µs>\t<status>\t<duration µs>" per request. */
export function readH2loadLog(path: string): LatencySummary {
  const samples = new SampleBuffer();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const duration = line.split("\t")[2];
    if (duration !== undefined) samples.push(Number(duration));
  }
  rmSync(path, { force: true });
  return samples.summarize();
}
