/**
 * The benchmark suite (`npm run bench`, via bench/run.sh): the same scenarios
 * against grpc-ts, @grpc/grpc-js, @connectrpc/connect-node, a bare node:http2
 * server and a REST+JSON server; client libraries against the grpc-ts server; the
 * Protobuf codecs. Subjects are measured interleaved within each repetition.
 * Writes bench/results/<timestamp>.md and .json; bench/README.md only with --update-readme.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { killAllChildren } from "./lib/children.js";
import { grpcTsTransport } from "./lib/grpc-ts-transport.js";
import {
  measureClient, measureCodec, measureH2load, measureMemory, measurePingPong, startServer, warmUpServer, type BenchContext, type RunningServer,
} from "./lib/measure.js";
import { withLatestRun } from "./lib/readme.js";
import { renderMarkdown } from "./lib/report.js";
import type { Measurement, RunMeta, RunResults } from "./lib/results.js";
import { pingPongClients, selectScenarios, subjectLabels, type PingPongClientName, type Scenario, type ServerName } from "./lib/scenarios.js";
import { evaluateTargets } from "./lib/targets.js";

const benchDir = fileURLToPath(new URL("./", import.meta.url));
const repoRoot = fileURLToPath(new URL("../", import.meta.url));

const runStartedAt = Date.now();
/** Request bodies and h2load logs of this run; removed however the run ends. */
let tmpDir: string | undefined;

function cleanUp(): void {
  killAllChildren();
  if (tmpDir !== undefined) rmSync(tmpDir, { recursive: true, force: true });
}

const usage = `usage: npm run bench -- [options]
  --quick                 short check (< 2 min): the scenarios behind the targets, 1 repetition, short windows
  --only=a,b              only these scenarios: ids, prefixes ending in *, or server / client / codec
  --reps=N                repetitions (default 5; --quick: 1)
  --warmup-ms=N           warm-up per measurement (default 1000; --quick: 300)
  --measure-ms=N          measured window per measurement (default 3000; --quick: 1000)
  --grpc-ts-transport=T   transport of the grpc-ts server and client: h2 (the default) or node-http2 (GRPC_TS_TRANSPORT)
  --pingpong-client=C     load client of server/bidi-pingpong: raw (the default; HTTP/2 over node:net) or node-http2
  --update-readme         put this run's tables into bench/README.md (full runs only)`;

interface Options {
  quick: boolean;
  only: string[] | undefined;
  reps: number;
  warmupMs: number;
  measureMs: number;
  transport: string | undefined;
  pingPongClient: PingPongClientName;
  updateReadme: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (match === null) throw new Error(`unexpected argument ${arg}\n${usage}`);
    flags.set(match[1]!, match[2] ?? "");
  }
  const known = ["quick", "only", "reps", "warmup-ms", "measure-ms", "grpc-ts-transport", "pingpong-client", "update-readme", "help"];
  for (const name of flags.keys()) if (!known.includes(name)) throw new Error(`unknown option --${name}\n${usage}`);
  if (flags.has("help")) {
    console.log(usage);
    process.exit(0);
  }
  const quick = flags.has("quick");
  const int = (name: string, fallback: number) => {
    const raw = flags.get(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} needs a positive integer, got ${JSON.stringify(raw)}`);
    return value;
  };
  const only = flags.get("only");
  const pingPongName = flags.get("pingpong-client") ?? "raw";
  const pingPongClient = pingPongClients.find((name) => name === pingPongName);
  if (pingPongClient === undefined) throw new Error(`--pingpong-client needs one of ${pingPongClients.join(", ")}, got ${JSON.stringify(pingPongName)}`);
  return {
    quick,
    only: only === undefined ? undefined : only.split(",").map((s) => s.trim()).filter((s) => s !== ""),
    reps: int("reps", quick ? 1 : 5),
    warmupMs: int("warmup-ms", quick ? 300 : 1000),
    measureMs: int("measure-ms", quick ? 1000 : 3000),
    transport: flags.get("grpc-ts-transport"),
    pingPongClient,
    updateReadme: flags.has("update-readme"),
  };
}

function packageVersion(name: string): string {
  try {
    const json = JSON.parse(readFileSync(join(repoRoot, "node_modules", name, "package.json"), "utf8")) as { version?: string };
    return json.version ?? "?";
  } catch {
    return "not installed";
  }
}

function commandOutput(command: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(command, args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

function versions(): Record<string, string> {
  const commit = commandOutput("git", ["rev-parse", "--short", "HEAD"]);
  const dirty = commandOutput("git", ["status", "--porcelain", "--untracked-files=no"]);
  return {
    "grpc-ts": commit === undefined ? "unknown" : `${commit}${dirty === undefined || dirty === "" ? "" : " (uncommitted changes)"}`,
    node: process.version,
    h2load: commandOutput("h2load", ["--version"])?.replace(/^h2load /, "") ?? "?",
    "@grpc/grpc-js": packageVersion("@grpc/grpc-js"),
    "@connectrpc/connect-node": packageVersion("@connectrpc/connect-node"),
    "@bufbuild/protobuf": packageVersion("@bufbuild/protobuf"),
    protobufjs: packageVersion("protobufjs"),
  };
}

/** The subjects in a different order each repetition, so none always goes first. */
function rotate<T>(items: readonly T[], rep: number): T[] {
  const k = rep % Math.max(1, items.length);
  return [...items.slice(k), ...items.slice(0, k)];
}

function describe(m: Measurement): string {
  if (m.error !== undefined) return `ERROR ${m.error.split("\n")[0]}`;
  const parts: string[] = [];
  if (m.rate !== undefined) parts.push(`${Math.round(m.rate).toLocaleString("en-US")}/s`);
  if (m.latency !== undefined) parts.push(`p99 ${(m.latency.p99Us / 1000).toFixed(2)} ms`);
  if (m.cpuUsPerOp !== undefined) parts.push(`${m.cpuUsPerOp.toFixed(1)} µs CPU/op`);
  if (m.loadCpuPercent !== undefined) parts.push(`load CPU ${m.loadCpuPercent.toFixed(0)}%`);
  if (m.memoryPerUnit !== undefined) parts.push(`${(m.memoryPerUnit.rssBytes / 1024).toFixed(1)} KiB RSS/unit`);
  if (m.codec !== undefined) parts.push(`encode ${Math.round(m.codec.encodeOpsPerSecond)}/s, decode ${Math.round(m.codec.decodeOpsPerSecond)}/s`);
  parts.push(m.check.ok ? "check ok" : `CHECK FAILED: ${m.check.detail}`);
  return parts.join(", ");
}

function failed(scenario: Scenario, subject: string, rep: number, error: unknown): Measurement {
  const message = error instanceof Error ? error.message : String(error);
  return { scenario: scenario.id, subject, rep, check: { ok: false, detail: "not measured" }, error: message };
}

async function runRep(ctx: BenchContext, selected: readonly Scenario[], rep: number, reps: number, record: (m: Measurement) => void): Promise<void> {
  const log = (m: Measurement) => {
    record(m);
    console.error(`[${((Date.now() - runStartedAt) / 1000).toFixed(0).padStart(4)} s, rep ${rep}/${reps}] ${m.scenario} ${subjectLabels[m.subject] ?? m.subject}: ${describe(m)}`);
  };

  // Throughput against servers: all of them up at once on core 1 (idle ones cost nothing), fresh each repetition.
  const loadScenarios = selected.filter((s) => s.kind === "h2load" || s.kind === "pingpong");
  if (loadScenarios.length > 0) {
    const names = [...new Set(loadScenarios.flatMap((s) => s.servers))];
    const started = await Promise.all(
      names.map((name) => startServer(name, ctx).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))))),
    );
    const servers = new Map<ServerName, RunningServer | Error>(names.map((name, i) => [name, started[i]!]));
    for (const [name, server] of servers) {
      if (server instanceof Error) continue;
      try {
        await warmUpServer(ctx, server);
      } catch (error) {
        await server.child.stop();
        servers.set(name, error instanceof Error ? error : new Error(String(error)));
      }
    }
    try {
      for (const scenario of loadScenarios) {
        for (const name of rotate(scenario.servers, rep)) {
          const server = servers.get(name);
          const subject = `server:${name}`;
          if (server === undefined || server instanceof Error) {
            log(failed(scenario, subject, rep, server ?? "not started"));
            continue;
          }
          try {
            log(scenario.kind === "h2load" ? await measureH2load(ctx, scenario, server, rep) : await measurePingPong(ctx, scenario, server, rep));
          } catch (error) {
            log(failed(scenario, subject, rep, error));
          }
        }
      }
    } finally {
      for (const server of servers.values()) if (!(server instanceof Error)) await server.child.stop();
    }
  }

  // Memory: a fresh server per measurement, so each starts from the same baseline.
  for (const scenario of selected) {
    if (scenario.kind !== "memory") continue;
    for (const name of rotate(scenario.servers, rep)) {
      try {
        log(await measureMemory(ctx, scenario, name, rep));
      } catch (error) {
        log(failed(scenario, `server:${name}`, rep, error));
      }
    }
  }

  // Client libraries against the grpc-ts server (issue 6: "against our own server pinned to the other core").
  const clientScenarios = selected.filter((s) => s.kind === "client");
  if (clientScenarios.length > 0) {
    let server: RunningServer | Error;
    try {
      server = await startServer("grpc-ts", ctx);
      await warmUpServer(ctx, server).catch(async (error: unknown) => {
        if (!(server instanceof Error)) await server.child.stop();
        throw error;
      });
    } catch (error) {
      server = error instanceof Error ? error : new Error(String(error));
    }
    try {
      for (const scenario of clientScenarios) {
        for (const client of rotate(scenario.clients, rep)) {
          const subject = `client:${client}`;
          if (server instanceof Error) {
            log(failed(scenario, subject, rep, server));
            continue;
          }
          try {
            log(await measureClient(ctx, scenario, client, server, rep));
          } catch (error) {
            log(failed(scenario, subject, rep, error));
          }
        }
      }
    } finally {
      if (!(server instanceof Error)) await server.child.stop();
    }
  }

  for (const scenario of selected) {
    if (scenario.kind !== "codec") continue;
    try {
      for (const m of await measureCodec(ctx, scenario.id, rep)) log(m);
    } catch (error) {
      log(failed(scenario, "codec:bufbuild", rep, error));
    }
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (options.transport !== undefined) process.env.GRPC_TS_TRANSPORT = options.transport;
  const transport = grpcTsTransport(); // fails early on an unknown name
  const selected = selectScenarios(options.only, options.quick);
  if (options.updateReadme && (options.quick || options.only !== undefined)) {
    throw new Error("--update-readme needs a full run (no --quick, no --only): the README holds the latest full table");
  }
  const mode: RunMeta["mode"] = options.quick ? "quick" : options.only === undefined ? "full" : "custom";

  tmpDir = mkdtempSync(join(tmpdir(), "grpc-ts-bench-"));
  const ctx: BenchContext = {
    quick: options.quick, warmupMs: options.warmupMs, measureMs: options.measureMs, tmpDir, env: { GRPC_TS_TRANSPORT: transport }, pingPongClient: options.pingPongClient,
  };
  const startedAt = new Date();
  const loadAverageAtStart = loadavg();
  // Taken now, when run.sh has just compiled what is measured: edits made during the run are not in it.
  const versionsAtStart = versions();
  console.error(`bench: ${selected.length} scenarios x ${options.reps} rep(s), mode ${mode}, load average ${loadAverageAtStart.map((l) => l.toFixed(2)).join(" ")}`);
  const measurements: Measurement[] = [];
  try {
    for (let rep = 1; rep <= options.reps; rep++) {
      await runRep(ctx, selected, rep, options.reps, (m) => measurements.push(m));
    }
  } finally {
    cleanUp();
  }

  const cpu = cpus();
  const results: RunResults = {
    meta: {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      mode,
      reps: options.reps,
      warmupMs: options.warmupMs,
      measureMs: options.measureMs,
      grpcTsTransport: transport,
      pingPongClient: options.pingPongClient,
      machine: { cpu: cpu[0]?.model ?? "?", cores: cpu.length, kernel: release(), loadAverageAtStart, loadAverageAtEnd: loadavg() },
      versions: versionsAtStart,
      scenarios: selected.map((s) => s.id),
    },
    measurements,
  };
  const markdown = renderMarkdown(results);
  const name = startedAt.toISOString().replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
  const resultsDir = join(benchDir, "results");
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.md`), markdown);
  writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify({ ...results, targets: evaluateTargets(measurements) }, null, 2)}\n`);
  if (options.updateReadme) {
    const readmePath = join(benchDir, "README.md");
    writeFileSync(readmePath, withLatestRun(readFileSync(readmePath, "utf8"), markdown, `bench/results/${name}.md`));
  }
  console.log(markdown);
  console.error(`bench: wrote bench/results/${name}.md and .json${options.updateReadme ? ", updated bench/README.md" : ""} in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(0)} s`);
  const failures = measurements.filter((m) => m.error !== undefined || !m.check.ok).length;
  if (failures > 0) console.error(`bench: ${failures} measurement(s) failed or did not pass the OK-count check; see the tables`);
  process.exitCode = failures > 0 ? 1 : 0;
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    cleanUp();
    process.exit(130);
  });
}

main().then(
  // A grpc-js check client or fetch keep-alive socket may linger: the run is over.
  () => process.exit(),
  (error: unknown) => {
    cleanUp();
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
