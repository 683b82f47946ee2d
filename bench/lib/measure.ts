/**
 * One measurement per function: a scenario, one subject, one repetition. Servers
 * run on core 1, every load generator (h2load, our clients) and the orchestrator
 * on core 0. Each measurement compares the load side's count of OK calls with the
 * server's own count, so a fast wrong answer cannot pass for a fast right one.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ClientJob, ClientReport } from "../clients/driver.js";
import type { HoldCommand, HoldJob, HoldReport } from "../clients/h2-hold.js";
import type { CodecJob, CodecReport } from "../codec/protobuf.js";
import { checkGrpcServer, checkRestServer } from "./check.js";
import { startPinned, type PinnedChild } from "./children.js";
import { encodePayload, encodeStreamRequest, frameMessage, frameMessages } from "./grpc-wire.js";
import { runH2load } from "./h2load.js";
import type { FromServer, ServerStats } from "./ipc.js";
import { processCpuUs, processRssBytes } from "./proc.js";
import type { Measurement } from "./results.js";
import {
  clientFiles, pingPongClientFiles, serverFiles, type ClientName, type ClientScenario, type H2loadScenario, type MemoryScenario, type PingPongClientName,
  type PingPongScenario, type ServerName,
} from "./scenarios.js";

export const serverCore = 1;
export const loadCore = 0;

export interface BenchContext {
  /** --quick: memory scenarios hold fewer connections and streams. */
  quick: boolean;
  warmupMs: number;
  measureMs: number;
  /** Where request bodies and h2load logs go. */
  tmpDir: string;
  /** Environment for grpc-ts processes (GRPC_TS_TRANSPORT). */
  env: NodeJS.ProcessEnv;
  /** The load client of the ping-pong scenario. */
  pingPongClient: PingPongClientName;
}

export interface RunningServer {
  name: ServerName;
  child: PinnedChild;
  port: number;
}

function isMessage<T extends { type: string }>(type: T["type"]) {
  return (message: unknown): message is T =>
    typeof message === "object" && message !== null && (message as { type?: unknown }).type === type;
}

/** Starts a server on the server core and checks it with a real gRPC (or HTTP) client. */
export async function startServer(name: ServerName, ctx: BenchContext): Promise<RunningServer> {
  const child = startPinned({ core: serverCore, file: serverFiles[name], label: `server ${name}`, env: ctx.env });
  try {
    const ready = await child.next(isMessage<Extract<FromServer, { type: "ready" }>>("ready"), 30_000, "ready");
    if (name === "rest") await checkRestServer(ready.port);
    else await checkGrpcServer(ready.port);
    return { name, child, port: ready.port };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/** The server's own counters and memory; `gc` collects garbage first (servers run with --expose-gc). */
async function serverStats(server: RunningServer, gc: boolean): Promise<ServerStats> {
  server.child.send({ type: "stats", gc });
  return server.child.next(isMessage<Extract<FromServer, { type: "stats" }>>("stats"), 10_000, "stats");
}

/** `loadCount` is what the load side saw succeed, `serverCount` what the server counted; they must be equal. */
function check(failures: string[], loadCount: number, serverCount: number, detail: string): Measurement["check"] {
  if (loadCount !== serverCount) failures.push(`load side ${loadCount} vs server ${serverCount}`);
  const counts = { loadCount, serverCount };
  return failures.length === 0 ? { ok: true, detail, ...counts } : { ok: false, detail: `${[...new Set(failures)].join("; ")} (${detail})`, ...counts };
}

const bodyFiles = new Map<string, string>();

/** The request body h2load posts for every call, written once per run. */
function requestBodyFile(ctx: BenchContext, scenario: H2loadScenario, rest: boolean): string {
  const key = `${rest ? "rest" : "grpc"}-${scenario.method}-${scenario.size}-${scenario.messagesPerCall}`;
  let path = bodyFiles.get(key);
  if (path !== undefined) return path;
  const payload = new Uint8Array(scenario.size).fill(7);
  let body: Buffer;
  if (rest) {
    body = Buffer.from(JSON.stringify({ body: Buffer.from(payload).toString("base64") }));
  } else {
    switch (scenario.method) {
      case "Unary":
        body = frameMessage(encodePayload(payload));
        break;
      case "ServerStream":
        body = frameMessage(encodeStreamRequest(scenario.messagesPerCall, scenario.size));
        break;
      case "ClientStream":
      case "Bidi": // the server echoes each message as it arrives
        body = frameMessages(Array.from({ length: scenario.messagesPerCall }, () => encodePayload(payload)));
        break;
      default:
        scenario.method satisfies never;
        throw new Error("unknown method");
    }
  }
  path = join(ctx.tmpDir, `${key}.bin`);
  writeFileSync(path, body);
  bodyFiles.set(key, path);
  return path;
}

/**
 * Unary calls for `2 x warmupMs` on a freshly started server, so the first scenario
 * measured on it does not pay for the JIT's first passes alone.
 */
export async function warmUpServer(ctx: BenchContext, server: RunningServer): Promise<void> {
  const scenario: H2loadScenario = {
    kind: "h2load", id: "warm-up", title: "warm-up", method: "Unary", size: 1024, messagesPerCall: 1, concurrency: 100, servers: [], quick: false,
  };
  const rest = server.name === "rest";
  await runH2load({
    url: rest ? `http://127.0.0.1:${server.port}/echo` : `http://127.0.0.1:${server.port}/grpcts.bench.Bench/Unary`,
    connections: rest ? scenario.concurrency : 1,
    streamsPerConnection: rest ? 1 : scenario.concurrency,
    bodyFile: requestBodyFile(ctx, scenario, rest),
    headers: rest ? ["content-type: application/json"] : ["content-type: application/grpc", "te: trailers"],
    h1: rest,
    core: loadCore,
    run: { durationMs: 2 * ctx.warmupMs },
    timeoutMs: 2 * ctx.warmupMs + 30_000,
  });
}

/** h2load against one server: a timed warm-up that also estimates the rate, then an exact -n run sized to measureMs. */
export async function measureH2load(ctx: BenchContext, scenario: H2loadScenario, server: RunningServer, rep: number): Promise<Measurement> {
  const rest = server.name === "rest";
  const common = {
    url: rest ? `http://127.0.0.1:${server.port}/echo` : `http://127.0.0.1:${server.port}/grpcts.bench.Bench/${scenario.method}`,
    // HTTP/1.1 has no multiplexing: REST gets `concurrency` connections, gRPC one connection with that many streams.
    connections: rest ? scenario.concurrency : 1,
    streamsPerConnection: rest ? 1 : scenario.concurrency,
    bodyFile: requestBodyFile(ctx, scenario, rest),
    headers: rest ? ["content-type: application/json"] : ["content-type: application/grpc", "te: trailers"],
    h1: rest,
    core: loadCore,
  };
  const warmup = await runH2load({ ...common, run: { durationMs: ctx.warmupMs }, timeoutMs: ctx.warmupMs + 30_000 });
  const requests = Math.max(Math.ceil((warmup.requestsPerSecond * ctx.measureMs) / 1000), scenario.concurrency * 2, 20);
  await sleep(200); // calls h2load dropped at the end of the warm-up finish on the server
  const before = await serverStats(server, false);
  const cpuBefore = processCpuUs(server.child.pid);
  const result = await runH2load({
    ...common,
    run: { requests },
    logFile: join(ctx.tmpDir, "h2load.log"),
    timeoutMs: Math.max(60_000, ctx.measureMs * 10 + 30_000),
  });
  const cpuUs = processCpuUs(server.child.pid) - cpuBefore;
  const rssBytes = processRssBytes(server.child.pid);
  const after = await serverStats(server, false);

  const okCalls = after.okCalls - before.okCalls;
  const messages = after.messages - before.messages;
  const failures: string[] = [];
  if (result.succeeded !== requests || result.failed + result.errored > 0) {
    failures.push(`h2load: ${result.succeeded} of ${requests} requests got 2xx, ${result.failed} failed, ${result.errored} errored`);
  }
  if (scenario.messagesPerCall > 1 && messages !== okCalls * scenario.messagesPerCall) {
    failures.push(`the server counted ${messages} messages, want ${okCalls * scenario.messagesPerCall}`);
  }
  const ops = result.succeeded * scenario.messagesPerCall;
  return {
    scenario: scenario.id,
    subject: `server:${server.name}`,
    rep,
    rate: ops / result.elapsedSeconds,
    mbPerSecond: (ops * scenario.size) / result.elapsedSeconds / 1e6,
    latency: result.latency,
    cpuUsPerOp: cpuUs / ops,
    loadCpuPercent: result.cpuPercent,
    rssBytes,
    check: check(failures, result.succeeded, okCalls, `h2load ${result.succeeded} 2xx, server ${okCalls} OK calls`),
  };
}

/** Each client run is a fresh process whose JIT starts cold: it warms up twice as long as a server does per scenario. */
function clientWarmupMs(ctx: BenchContext): number {
  return 2 * ctx.warmupMs;
}

/** Starts one of our client processes on the load core with `job`. */
function startClient(file: string, job: ClientJob | HoldJob, label: string, ctx: BenchContext): PinnedChild {
  return startPinned({ core: loadCore, file, args: [JSON.stringify(job)], label, env: ctx.env });
}

type ClientResult = Extract<ClientReport, { type: "result" }>;

/** Runs a client job against `server`, sampling the server's CPU inside the client's measured window. */
async function runClientJob(ctx: BenchContext, file: string, label: string, job: ClientJob, server: RunningServer) {
  const before = await serverStats(server, false);
  const child = startClient(file, job, label, ctx);
  const budgetMs = job.warmupMs + job.durationMs + 60_000;
  try {
    await child.next(isMessage<ClientReport>("measure-start"), budgetMs, "measure-start");
    const cpuStart = processCpuUs(server.child.pid);
    await child.next(isMessage<ClientReport>("measure-end"), budgetMs, "measure-end");
    const serverCpuUs = processCpuUs(server.child.pid) - cpuStart;
    const serverRssBytes = processRssBytes(server.child.pid);
    const result = await child.next(isMessage<ClientResult>("result"), 60_000, "result");
    await child.exited;
    const after = await serverStats(server, false);
    return { result, serverCpuUs, serverRssBytes, okCalls: after.okCalls - before.okCalls, messages: after.messages - before.messages };
  } finally {
    await child.stop();
  }
}

/** Lockstep bidi streams from our load client (ctx.pingPongClient) against one server. */
export async function measurePingPong(ctx: BenchContext, scenario: PingPongScenario, server: RunningServer, rep: number): Promise<Measurement> {
  const job: ClientJob = {
    kind: "pingpong", port: server.port, size: scenario.size, concurrency: scenario.streams, warmupMs: clientWarmupMs(ctx), durationMs: ctx.measureMs,
  };
  const run = await runClientJob(ctx, pingPongClientFiles[ctx.pingPongClient], `load client (ping-pong, ${ctx.pingPongClient})`, job, server);
  const { result } = run;
  const failures: string[] = [];
  if (run.okCalls !== result.okCallsTotal) failures.push(`the server counted ${run.okCalls} OK streams, the client ${result.okCallsTotal}`);
  const seconds = result.windowMs / 1000;
  return {
    scenario: scenario.id,
    subject: `server:${server.name}`,
    rep,
    rate: result.ops / seconds,
    mbPerSecond: (result.ops * scenario.size) / seconds / 1e6,
    latency: result.latency,
    cpuUsPerOp: run.serverCpuUs / result.ops,
    loadCpuPercent: (100 * result.cpuUs) / (result.windowMs * 1000),
    rssBytes: run.serverRssBytes,
    check: check(failures, result.messagesTotal, run.messages, `client ${result.messagesTotal} round trips, server ${run.messages} messages`),
  };
}

/** One client library against the grpc-ts server (as issue 6 asks); the client process is the one measured. */
export async function measureClient(ctx: BenchContext, scenario: ClientScenario, client: ClientName, server: RunningServer, rep: number): Promise<Measurement> {
  const base = { port: server.port, concurrency: scenario.concurrency, warmupMs: clientWarmupMs(ctx), durationMs: ctx.measureMs };
  let job: ClientJob;
  switch (scenario.job) {
    case "unary":
      job = { kind: "unary", size: scenario.size, ...base };
      break;
    case "serverStream":
      job = { kind: "serverStream", count: scenario.messagesPerCall, size: scenario.size, ...base };
      break;
    case "clientStream":
      job = { kind: "clientStream", count: scenario.messagesPerCall, size: scenario.size, ...base };
      break;
    case "pingpong":
      job = { kind: "pingpong", size: scenario.size, ...base };
      break;
    default:
      scenario.job satisfies never;
      throw new Error("unknown job");
  }
  const run = await runClientJob(ctx, clientFiles[client], `client ${client}`, job, server);
  const { result } = run;
  const failures: string[] = [];
  if (scenario.job === "pingpong" && run.messages !== result.messagesTotal) {
    failures.push(`the server echoed ${run.messages} messages, the client got ${result.messagesTotal}`);
  }
  const ops = result.ops * scenario.messagesPerCall;
  const seconds = result.windowMs / 1000;
  return {
    scenario: scenario.id,
    subject: `client:${client}`,
    rep,
    rate: ops / seconds,
    mbPerSecond: (ops * scenario.size) / seconds / 1e6,
    latency: result.latency,
    cpuUsPerOp: result.cpuUs / ops,
    rssBytes: result.rssBytes,
    check: check(failures, result.okCallsTotal, run.okCalls, `client ${result.okCallsTotal} OK calls, server ${run.okCalls} OK calls`),
  };
}

/** Memory growth of a fresh server while our load client holds connections (and streams) open. */
export async function measureMemory(ctx: BenchContext, scenario: MemoryScenario, name: ServerName, rep: number): Promise<Measurement> {
  const connections = ctx.quick ? scenario.quickConnections : scenario.connections;
  const streams = ctx.quick ? scenario.quickStreams : scenario.streams;
  const server = await startServer(name, ctx);
  try {
    await sleep(200);
    const idle = await serverStats(server, true);
    const job: HoldJob = { port: server.port, connections, streams, size: 10 };
    const client = startClient("bench/clients/h2-hold.ts", job, "load client (hold)", ctx);
    try {
      const connected = await client.next(isMessage<Extract<HoldReport, { type: "connected" }>>("connected"), 120_000, "connections");
      await sleep(300);
      const withConnections = await serverStats(server, true);
      client.send({ type: "open" } satisfies HoldCommand);
      const opened = await client.next(isMessage<Extract<HoldReport, { type: "opened" }>>("opened"), 120_000, "open streams");
      await sleep(300);
      const withStreams = await serverStats(server, true);
      client.send({ type: "finish" } satisfies HoldCommand);
      const done = await client.next(isMessage<Extract<HoldReport, { type: "done" }>>("done"), 120_000, "stream ends");
      await client.exited;
      await sleep(200);
      const after = await serverStats(server, false);

      const failures: string[] = [];
      if (connected.okUnary !== connections) failures.push(`${connected.okUnary} of ${connections} connections answered`);
      if (opened.echoed !== streams) failures.push(`${opened.echoed} of ${streams} streams echoed`);
      if (done.okStreams !== streams) failures.push(`${done.okStreams} of ${streams} streams ended OK (${done.firstError ?? ""})`);
      const okCalls = after.okCalls - idle.okCalls;

      const heap = (s: ServerStats) => s.memory.heapUsed + s.memory.external;
      const [from, to, units] = scenario.per === "connection"
        ? [idle, withConnections, connections]
        : [withConnections, withStreams, streams];
      return {
        scenario: scenario.id,
        subject: `server:${name}`,
        rep,
        memoryPerUnit: { rssBytes: (to.memory.rss - from.memory.rss) / units, heapBytes: (heap(to) - heap(from)) / units },
        rssBytes: to.memory.rss,
        check: check(failures, done.okStreams + connected.okUnary, okCalls, `client ${connected.okUnary} calls and ${done.okStreams} streams OK, server ${okCalls} OK calls`),
      };
    } finally {
      await client.stop();
    }
  } finally {
    await server.child.stop();
  }
}

/** The codec benchmark in its own process on the server core. */
export async function measureCodec(ctx: BenchContext, scenarioId: string, rep: number): Promise<Measurement[]> {
  const job: CodecJob = { warmupMs: ctx.warmupMs, durationMs: ctx.measureMs * 2 };
  const child = startPinned({ core: serverCore, file: "bench/codec/protobuf.ts", args: [JSON.stringify(job)], label: "codec", env: ctx.env });
  try {
    const report = await child.next(isMessage<CodecReport>("result"), job.warmupMs + job.durationMs + 60_000, "codec result");
    const measurement = (library: "bufbuild" | "protobufjs"): Measurement => ({
      scenario: scenarioId,
      subject: `codec:${library}`,
      rep,
      codec: { ...report[library], encodedBytes: report.encodedBytes },
      check: { ok: true, detail: "each library decodes the other's bytes to the same message" },
    });
    return [measurement("bufbuild"), measurement("protobufjs")];
  } finally {
    await child.stop();
  }
}
