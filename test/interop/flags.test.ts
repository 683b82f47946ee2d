import assert from "node:assert/strict";
import { test } from "node:test";
import { selectCases } from "../../interop/case-names.js";
import { clientFlagSpec } from "../../interop/client-flags.js";
import { FlagError, parseFlags } from "../../interop/flags.js";
import { formatCaseResult, parseCaseResult } from "../../interop/results.js";
import { serverFlagSpec } from "../../interop/server-flags.js";

const serverCases = [
  [[], { port: 10000, use_tls: false, tls_cert_file: "", tls_key_file: "" }],
  [["--port=8080"], { port: 8080, use_tls: false, tls_cert_file: "", tls_key_file: "" }],
  [["--port", "8080", "--use_tls"], { port: 8080, use_tls: true, tls_cert_file: "", tls_key_file: "" }],
  [["-port=0", "--use_tls=true"], { port: 0, use_tls: true, tls_cert_file: "", tls_key_file: "" }],
  [["--use_tls=false"], { port: 10000, use_tls: false, tls_cert_file: "", tls_key_file: "" }],
  [["--use_tls", "--use_tls=FALSE"], { port: 10000, use_tls: false, tls_cert_file: "", tls_key_file: "" }],
  [["--use_tls=1", "--tls_cert_file=/a.pem", "--tls_key_file", "/a.key"], { port: 10000, use_tls: true, tls_cert_file: "/a.pem", tls_key_file: "/a.key" }],
] as const;
for (const [argv, want] of serverCases) {
  test(`interop server flags ${JSON.stringify(argv)} parse to ${JSON.stringify(want)}`, () => {
    assert.deepEqual(parseFlags(serverFlagSpec, argv), want);
  });
}

const badArgs = [
  [["--use_tls=yes"], /--use_tls takes true or false/],
  [["--port=ten"], /--port takes an integer/],
  [["--port"], /--port needs a value/],
  [["--no_such_flag"], /unknown flag --no_such_flag/],
  [["8080"], /unexpected argument "8080"/],
  [["--use_tls", "true"], /unexpected argument "true"/],
] as const;
for (const [argv, message] of badArgs) {
  test(`interop server flags ${JSON.stringify(argv)} are refused with a FlagError`, () => {
    assert.throws(() => parseFlags(serverFlagSpec, argv), (err: unknown) => err instanceof FlagError && message.test(err.message));
  });
}

test("interop client flags keep grpc-go's defaults", () => {
  const flags = parseFlags(clientFlagSpec, []);
  assert.equal(flags.server_host, "localhost");
  assert.equal(flags.server_port, 10000);
  assert.equal(flags.test_case, "large_unary");
  assert.equal(flags.use_tls, false);
  assert.equal(flags.use_test_ca, false);
  assert.equal(flags.soak_iterations, 10);
  assert.equal(flags.soak_per_iteration_max_acceptable_latency_ms, 1000);
});

test("--test_case selects all cases, one case, or a list, and refuses unknown names", () => {
  assert.equal(selectCases("all").length, 20);
  assert.deepEqual(selectCases("ping_pong"), ["ping_pong"]);
  assert.deepEqual(selectCases("empty_unary,rpc_soak"), ["empty_unary", "rpc_soak"]);
  assert.throws(() => selectCases("ping_pong,pong_ping"), FlagError);
  assert.throws(() => selectCases(""), FlagError);
});

const resultLines = [
  [{ name: "empty_unary", outcome: { kind: "pass" } }, "PASS empty_unary"],
  [{ name: "large_unary", outcome: { kind: "fail", reason: "payload size: got 1, want 2" } }, "FAIL large_unary: payload size: got 1, want 2"],
  [{ name: "ping_pong", outcome: { kind: "skip", reason: "cannot" } }, "SKIP ping_pong: cannot"],
] as const;
for (const [result, line] of resultLines) {
  test(`a ${result.outcome.kind} result prints as ${JSON.stringify(line)} and reads back`, () => {
    assert.equal(formatCaseResult(result), line);
    assert.deepEqual(parseCaseResult(line), result);
  });
}

test("a failure reason spanning lines prints on one line", () => {
  assert.equal(formatCaseResult({ name: "x", outcome: { kind: "fail", reason: "a\n  b\nc" } }), "FAIL x: a | b | c");
});

test("lines that are not results read back as undefined", () => {
  assert.equal(parseCaseResult("grpc-ts interop server listening on port 1 (TLS)"), undefined);
  assert.equal(parseCaseResult("PASS"), undefined);
});
