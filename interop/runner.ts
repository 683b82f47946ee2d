/**
 * The interop runner (`npm run interop`, also the last step of `npm test`): plays every
 * interop case in three pairings — grpc-ts client → grpc-ts server, grpc-ts client →
 * @grpc/grpc-js server, @grpc/grpc-js client → grpc-ts server — over plaintext and over
 * TLS with the published interop test credentials. Prints one line per case and pairing
 * and a closing `N passed, M failed, K skipped` line; exits 1 when a case failed.
 * Servers and clients are child processes, stopped by PID; the runner always exits.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { grpcJsCannotRun } from "../test/interop/grpcjs-limits.js";
import { selectCases, type InteropCaseName } from "./case-names.js";
import { FlagError, describeFlags, parseFlagsOrExit } from "./flags.js";
import { parseCaseResult, type CaseOutcome } from "./results.js";
import { parseListeningLine } from "./server-flags.js";
import { testServerHostOverride } from "./testdata.js";

const runnerFlagSpec = {
  test_case: { kind: "string", default: "all", help: "the cases to play: all, or a comma-separated list" },
  soak_iterations: { kind: "int", default: 5, help: "iterations of rpc_soak and channel_soak" },
  server_fault: { kind: "string", default: "", help: "make the grpc-ts servers answer wrongly on purpose (INTEROP_SERVER_FAULT, e.g. short_unary_payload), to watch the clients fail" },
  verbose: { kind: "bool", default: false, help: "also print what the servers and clients write to stderr" },
} as const;

type Implementation = "grpc-ts" | "grpc-js";
type Transport = "plaintext" | "tls";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const scripts: Record<Implementation, { server: string; client: string }> = {
  "grpc-ts": { server: "interop/server.ts", client: "interop/client.ts" },
  "grpc-js": { server: "test/interop/grpcjs-server.ts", client: "test/interop/grpcjs-client.ts" },
};
const pairings: readonly { client: Implementation; server: Implementation }[] = [
  { client: "grpc-ts", server: "grpc-ts" },
  { client: "grpc-ts", server: "grpc-js" },
  { client: "grpc-js", server: "grpc-ts" },
];
const transports: readonly Transport[] = ["plaintext", "tls"];

/** Generous limits: two shared cores. A client run past its limit is killed and its missing cases fail. */
const serverStartLimitMs = 30_000;
const clientRunLimitMs = 120_000;
const stopLimitMs = 5_000;

const usage = "npm run interop --";
const flags = parseFlagsOrExit(runnerFlagSpec, process.argv.slice(2), usage);
let caseNames: InteropCaseName[];
try {
  caseNames = selectCases(flags.test_case);
} catch (err) {
  if (!(err instanceof FlagError)) throw err;
  console.error(`${err.message}\n\nusage: ${usage} [flags]\n${describeFlags(runnerFlagSpec)}`);
  process.exit(2);
}

const children = new Set<ChildProcess>();

/** Starts `node --import tsx <script> <args>` from the repository root. */
function spawnScript(script: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const label = `${script}[${child.pid}]`;
  createInterface({ input: child.stderr! }).on("line", (line) => {
    if (flags.verbose) console.error(`  ${label}: ${line}`);
    rememberStderr(child, line);
  });
  return child;
}

/** The last stderr lines of each child, for failure reasons. */
const stderrTails = new WeakMap<ChildProcess, string[]>();
function rememberStderr(child: ChildProcess, line: string): void {
  const lines = stderrTails.get(child) ?? [];
  lines.push(line);
  if (lines.length > 20) lines.shift();
  stderrTails.set(child, lines);
}
function stderrTail(child: ChildProcess): string {
  return (stderrTails.get(child) ?? []).join(" | ");
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** SIGTERM, then SIGKILL if the process is still there after stopLimitMs. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve();
    }, stopLimitMs);
  });
  await Promise.race([exited(child), killed]);
  clearTimeout(timer);
  await exited(child);
}

interface RunningServer {
  readonly implementation: Implementation;
  readonly transport: Transport;
  readonly process: ChildProcess;
  readonly port: number;
}

async function startServer(implementation: Implementation, transport: Transport): Promise<RunningServer> {
  const args = ["--port=0", ...(transport === "tls" ? ["--use_tls"] : [])];
  const env = { ...process.env };
  if (implementation === "grpc-ts" && flags.server_fault !== "") env.INTEROP_SERVER_FAULT = flags.server_fault;
  const child = spawnScript(scripts[implementation].server, args, env);
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${implementation} ${transport} server did not listen within ${serverStartLimitMs} ms`)), serverStartLimitMs);
    const lines = createInterface({ input: child.stdout! });
    lines.on("line", (line) => {
      const port = parseListeningLine(line);
      if (port === undefined) return;
      clearTimeout(timer);
      resolve(port);
    });
    void exited(child).then((code) => {
      clearTimeout(timer);
      reject(new Error(`the ${implementation} ${transport} server exited with code ${String(code)}: ${stderrTail(child)}`));
    });
  });
  return { implementation, transport, process: child, port };
}

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}

function report(tally: Tally, label: string, name: string, outcome: CaseOutcome): void {
  switch (outcome.kind) {
    case "pass":
      tally.passed++;
      console.log(`PASS  ${label}  ${name}`);
      return;
    case "fail":
      tally.failed++;
      console.log(`FAIL  ${label}  ${name}: ${outcome.reason}`);
      return;
    case "skip":
      tally.skipped++;
      console.log(`SKIP  ${label}  ${name}: ${outcome.reason}`);
      return;
    default:
      outcome satisfies never;
  }
}

/** Runs one client over `names` against `server`, reporting each case as its line arrives. */
async function runClient(client: Implementation, server: RunningServer, names: readonly InteropCaseName[], tally: Tally, label: string): Promise<void> {
  const args = [
    "--server_host=127.0.0.1",
    `--server_port=${server.port}`,
    `--test_case=${names.join(",")}`,
    `--soak_iterations=${flags.soak_iterations}`,
    // Generous on two shared cores: soak checks completion and errors, not speed.
    "--soak_per_iteration_max_acceptable_latency_ms=10000",
    "--soak_overall_timeout_seconds=60",
  ];
  if (server.transport === "tls") args.push("--use_tls", "--use_test_ca", `--server_host_override=${testServerHostOverride}`);
  const child = spawnScript(scripts[client].client, args);
  const pending = new Set<string>(names);
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const result = parseCaseResult(line);
    if (result === undefined || !pending.has(result.name)) {
      if (flags.verbose && line.trim() !== "") console.error(`  ${scripts[client].client}: ${line}`);
      return;
    }
    pending.delete(result.name);
    report(tally, label, result.name, result.outcome);
  });
  let timer: NodeJS.Timeout | undefined;
  const overtime = new Promise<"overtime">((resolve) => (timer = setTimeout(() => resolve("overtime"), clientRunLimitMs)));
  const first = await Promise.race([exited(child), overtime]);
  clearTimeout(timer);
  if (first === "overtime") await stop(child);
  const code = await exited(child);
  // Let the last stdout lines through before declaring cases missing.
  await new Promise<void>((resolve) => (child.stdout!.readableEnded ? resolve() : child.stdout!.once("end", () => resolve())));
  for (const name of pending) {
    const why = first === "overtime" ? `the client was still running after ${clientRunLimitMs} ms and was stopped` : `the client exited with code ${String(code)} without a result`;
    report(tally, label, name, { kind: "fail", reason: `${why}; stderr: ${stderrTail(child)}` });
  }
}

async function main(): Promise<Tally> {
  const tally: Tally = { passed: 0, failed: 0, skipped: 0 };
  const servers = new Map<string, RunningServer>();
  const started = await Promise.allSettled(
    (["grpc-ts", "grpc-js"] as const).flatMap((impl) => transports.map(async (transport) => {
      servers.set(`${impl}/${transport}`, await startServer(impl, transport));
    })),
  );
  const startFailures = started.filter((s): s is PromiseRejectedResult => s.status === "rejected");
  for (const failure of startFailures) console.log(`ERROR  ${String(failure.reason instanceof Error ? failure.reason.message : failure.reason)}`);

  for (const transport of transports) {
    for (const { client, server: serverImpl } of pairings) {
      const label = `${client} client → ${serverImpl} server (${transport})`;
      const server = servers.get(`${serverImpl}/${transport}`);
      const runnable: InteropCaseName[] = [];
      for (const name of caseNames) {
        const cannot = serverImpl === "grpc-js" ? grpcJsCannotRun("server", name) : undefined;
        if (server === undefined) report(tally, label, name, { kind: "fail", reason: "the server did not start" });
        else if (cannot !== undefined) report(tally, label, name, { kind: "skip", reason: cannot });
        else runnable.push(name);
      }
      if (server !== undefined && runnable.length > 0) await runClient(client, server, runnable, tally, label);
    }
  }
  await Promise.all([...servers.values()].map((s) => stop(s.process)));
  return tally;
}

async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stop(child)));
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void stopAll().then(() => process.exit(130));
  });
}

const startedAt = performance.now();
let exitCode = 1;
try {
  const tally = await main();
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  const skipped = tally.skipped === 0 ? "" : `, ${tally.skipped} skipped (@grpc/grpc-js cannot run them; reasons above)`;
  console.log(`${tally.passed} passed, ${tally.failed} failed${skipped} in ${seconds} s`);
  exitCode = tally.failed === 0 ? 0 : 1;
} catch (err) {
  console.error(`interop runner: ${err instanceof Error ? err.stack : String(err)}`);
} finally {
  await stopAll();
}
process.exit(exitCode);
