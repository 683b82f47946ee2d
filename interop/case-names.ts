/**
 * The interop test cases this project runs (grpc/grpc doc/interop-test-descriptions.md),
 * in the order `--test_case=all` plays them, and how a --test_case value selects them.
 */
import { FlagError } from "./flags.js";

export const interopCaseNames = [
  "empty_unary",
  "large_unary",
  "client_compressed_unary",
  "server_compressed_unary",
  "client_streaming",
  "client_compressed_streaming",
  "server_streaming",
  "server_compressed_streaming",
  "ping_pong",
  "empty_stream",
  "timeout_on_sleeping_server",
  "cancel_after_begin",
  "cancel_after_first_response",
  "status_code_and_message",
  "special_status_message",
  "custom_metadata",
  "unimplemented_method",
  "unimplemented_service",
  "rpc_soak",
  "channel_soak",
] as const;

export type InteropCaseName = (typeof interopCaseNames)[number];

export function isInteropCaseName(name: string): name is InteropCaseName {
  return (interopCaseNames as readonly string[]).includes(name);
}

/** "all", one case, or a comma-separated list of cases; throws FlagError for an unknown name. */
export function selectCases(testCase: string): InteropCaseName[] {
  if (testCase === "all") return [...interopCaseNames];
  const names = testCase.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (names.length === 0) throw new FlagError("--test_case is empty");
  for (const name of names) {
    if (!isInteropCaseName(name)) throw new FlagError(`unknown test case ${JSON.stringify(name)}; known: all, ${interopCaseNames.join(", ")}`);
  }
  return names as InteropCaseName[];
}
