/**
 * The interop client's flags, shared by every interop client here (ours and the
 * @grpc/grpc-js harness), with grpc-go's names and defaults.
 */
import { readFileSync } from "node:fs";
import type { FlagValues } from "./flags.js";
import { testCaPath } from "./testdata.js";

export const clientFlagSpec = {
  server_host: { kind: "string", default: "localhost", help: "the server host to connect to" },
  server_port: { kind: "int", default: 10000, help: "the server port to connect to" },
  server_host_override: { kind: "string", default: "", help: "the name to claim in TLS (SNI, certificate check) and :authority; empty: --server_host" },
  test_case: { kind: "string", default: "large_unary", help: "the case to run, a comma-separated list, or all" },
  use_tls: { kind: "bool", default: false, help: "connect with TLS" },
  use_test_ca: { kind: "bool", default: false, help: "trust the interop test CA (interop/testdata/ca.pem) instead of the system roots" },
  ca_file: { kind: "string", default: "", help: "trust the CA certificates in this PEM file (wins over --use_test_ca)" },
  soak_iterations: { kind: "int", default: 10, help: "RPCs per soak case (rpc_soak, channel_soak)" },
  soak_max_failures: { kind: "int", default: 0, help: "soak iterations allowed to fail (error or too slow)" },
  soak_per_iteration_max_acceptable_latency_ms: { kind: "int", default: 1000, help: "a soak iteration slower than this counts as failed" },
  soak_overall_timeout_seconds: { kind: "int", default: 10, help: "a soak case that has not finished its iterations by then fails" },
  soak_min_time_ms_between_rpcs: { kind: "int", default: 0, help: "least time between the starts of two soak RPCs" },
  soak_request_size: { kind: "int", default: 271828, help: "request payload bytes of a soak RPC" },
  soak_response_size: { kind: "int", default: 314159, help: "response payload bytes of a soak RPC" },
} as const;

export type ClientFlags = FlagValues<typeof clientFlagSpec>;

/** The CA certificates to trust on TLS: --ca_file, else the test CA with --use_test_ca, else undefined (system roots). */
export function trustedCa(flags: ClientFlags): Buffer | undefined {
  if (flags.ca_file !== "") return readFileSync(flags.ca_file);
  if (flags.use_test_ca) return readFileSync(testCaPath);
  return undefined;
}

/** "host:port" for --server_host and --server_port, brackets around an IPv6 address. */
export function serverTarget(flags: ClientFlags): string {
  const host = flags.server_host.includes(":") && !flags.server_host.startsWith("[") ? `[${flags.server_host}]` : flags.server_host;
  return `${host}:${flags.server_port}`;
}

/** The soak settings of the flags. */
export interface SoakSettings {
  readonly iterations: number;
  readonly maxFailures: number;
  readonly maxLatencyMs: number;
  readonly overallTimeoutMs: number;
  readonly minTimeBetweenRpcsMs: number;
  readonly requestSize: number;
  readonly responseSize: number;
}

export function soakSettings(flags: ClientFlags): SoakSettings {
  return {
    iterations: flags.soak_iterations,
    maxFailures: flags.soak_max_failures,
    maxLatencyMs: flags.soak_per_iteration_max_acceptable_latency_ms,
    overallTimeoutMs: flags.soak_overall_timeout_seconds * 1000,
    minTimeBetweenRpcsMs: flags.soak_min_time_ms_between_rpcs,
    requestSize: flags.soak_request_size,
    responseSize: flags.soak_response_size,
  };
}
