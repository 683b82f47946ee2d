/**
 * What one measurement of one subject (a server, a client, a codec) in one
 * repetition of one scenario produced: the raw JSON of a run is a list of these.
 */
import type { PingPongClientName } from "./scenarios.js";
import type { LatencySummary } from "./stats.js";

export interface Measurement {
  scenario: string;
  /** "server:grpc-ts", "client:grpc-js", "codec:protobufjs"… */
  subject: string;
  /** 1-based repetition. */
  rep: number;
  /** Operations per second in the scenario's unit: calls/s, or messages/s for streams and ping-pong. */
  rate?: number;
  /** Payload megabytes (10^6 B) per second in the streamed direction (the response for echoes). */
  mbPerSecond?: number;
  /** Per call (per round trip for ping-pong), in µs. */
  latency?: LatencySummary;
  /** CPU time of the measured process (the server, or the client for client scenarios) per operation. */
  cpuUsPerOp?: number;
  /**
   * Server-side scenarios: the load generator's (h2load's, or our ping-pong client's)
   * CPU time over its run, as a percentage of one core. Near 100, the load set the rate.
   */
  loadCpuPercent?: number;
  /** Resident memory of the measured process at the end of the run. */
  rssBytes?: number;
  /** Memory scenarios: growth per connection or per stream. */
  memoryPerUnit?: { rssBytes: number; heapBytes: number };
  /** Codec scenario. */
  codec?: { encodeOpsPerSecond: number; decodeOpsPerSecond: number; encodedBytes: number };
  /**
   * Whether what the load side saw succeed (h2load's 2xx, our client's OK calls or
   * round trips) equals the server's own count, with both counts.
   */
  check: { ok: boolean; detail: string; loadCount?: number; serverCount?: number };
  /** Set when the measurement failed; the other figures are then absent. */
  error?: string;
}

export interface RunMeta {
  startedAt: string;
  finishedAt: string;
  mode: "quick" | "full" | "custom";
  reps: number;
  warmupMs: number;
  measureMs: number;
  grpcTsTransport: string;
  /** The load client of the ping-pong scenario (--pingpong-client). */
  pingPongClient: PingPongClientName;
  machine: { cpu: string; cores: number; kernel: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[] };
  versions: Record<string, string>;
  /** Scenario ids run, in order. */
  scenarios: string[];
}

export interface RunResults {
  meta: RunMeta;
  measurements: Measurement[];
}
