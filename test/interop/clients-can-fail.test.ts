/**
 * The interop clients must be able to fail, or a green interop run proves nothing. The
 * servers run as child processes (as in the runner): a grpc-ts server that answers
 * UnaryCall one byte short (INTEROP_SERVER_FAULT=short_unary_payload) and a @grpc/grpc-js
 * server, which never compresses responses.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseListeningLine } from "../../interop/server-flags.js";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const started: ChildProcess[] = [];

/** Starts `node --import tsx <script>`; its stderr is kept (drained, so it never blocks) for failure messages. */
function spawnScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess & { stderrText(): string } {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  started.push(child);
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)));
  return Object.assign(child, { stderrText: () => stderr });
}

function startServer(script: string, env?: NodeJS.ProcessEnv): Promise<number> {
  const child = spawnScript(script, ["--port=0"], env);
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const port = parseListeningLine(line);
      if (port !== undefined) resolve(port);
    });
    child.once("exit", (code) => reject(new Error(`${script} exited with code ${String(code)} before listening: ${child.stderrText()}`)));
  });
}

/** Runs a client to its exit: its exit code and stdout lines. */
async function runClient(script: string, port: number, testCase: string): Promise<{ code: number | null; lines: string[] }> {
  const child = spawnScript(script, ["--server_host=127.0.0.1", `--server_port=${port}`, `--test_case=${testCase}`]);
  let stdout = "";
  child.stdout!.on("data", (chunk) => (stdout += String(chunk)));
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0 && code !== 1) assert.fail(`${script} exited with code ${String(code)}: ${child.stderrText()}`);
  return { code, lines: stdout.split("\n").filter((l) => l !== "") };
}

let faultyServerPort: number;
let correctServerPort: number;
let grpcJsServerPort: number;

before(async () => {
  [faultyServerPort, correctServerPort, grpcJsServerPort] = await Promise.all([
    startServer("interop/server.ts", { ...process.env, INTEROP_SERVER_FAULT: "short_unary_payload" }),
    startServer("interop/server.ts"),
    startServer("test/interop/grpcjs-server.ts"),
  ]);
});

after(async () => {
  await Promise.all(started.map(async (child) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exit = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exit;
    clearTimeout(timer);
  }));
});

test("the @grpc/grpc-js client reports FAIL large_unary when the server answers one byte short", async () => {
  const { code, lines } = await runClient("test/interop/grpcjs-client.ts", faultyServerPort, "large_unary");
  assert.deepEqual(lines, ["FAIL large_unary: response payload size: got 314158, want 314159"]);
  assert.equal(code, 1);
});

test("the grpc-ts client reports FAIL large_unary when the server answers one byte short", async () => {
  const { code, lines } = await runClient("interop/client.ts", faultyServerPort, "large_unary");
  assert.deepEqual(lines, ["FAIL large_unary: response payload size: got 314158, want 314159"]);
  assert.equal(code, 1);
});

test("the @grpc/grpc-js client reports PASS large_unary against a correct server", async () => {
  const { code, lines } = await runClient("test/interop/grpcjs-client.ts", correctServerPort, "large_unary");
  assert.deepEqual(lines, ["PASS large_unary"]);
  assert.equal(code, 0);
});

test("the grpc-ts client reports FAIL server_compressed_unary against a server that never compresses", async () => {
  const { code, lines } = await runClient("interop/client.ts", grpcJsServerPort, "server_compressed_unary");
  assert.deepEqual(lines, ["FAIL server_compressed_unary: compressed flag of the response with response_compressed=true: got [ false ], want [ true ]"]);
  assert.equal(code, 1);
});
