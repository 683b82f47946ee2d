/**
 * Client keepalive (gRFC A8) on real sockets. A frozen peer — a child process running
 * the Route Guide service, stopped with SIGSTOP — answers no PING: the channel must
 * notice within keepaliveTime + keepaliveTimeout and fail the call in flight with
 * UNAVAILABLE. A healthy peer keeps its connection however long the call. A server
 * answering GOAWAY ENHANCE_YOUR_CALM "too_many_pings" doubles the keepalive time of the
 * channel's next connections. testOnlyMinKeepaliveTimeMs lowers the 10 s floor.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, createChannel, createClient, type Channel, type ChannelOptions } from "../../src/index.js";
import { RouteGuide, type RouteNote } from "../../examples/route-guide/gen/route_guide_pb.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService, startServer } from "../helpers/server.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

// The default transport: npm test runs this file on ours, then on node:http2.
function open(target: string, options: ChannelOptions): Channel {
  const channel = createChannel(target, undefined, { testOnlyMinKeepaliveTimeMs: 50, ...options });
  cleanup.push(() => channel.close());
  return channel;
}

/** The Route Guide service in a child process on a free port; resolves with its port once it listens. */
async function startChildServer(): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", "test/helpers/route-guide-child.ts"], {
    cwd: repoRoot,
    env: process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  cleanup.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGCONT");
    child.kill("SIGKILL");
    await exited;
  });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child server did not start: ${output}`)), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on .*:(\d+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the child server exited (${code}): ${output}`));
    });
  });
  return { child, port };
}

test("detects a frozen server within keepaliveTime + keepaliveTimeout and fails the call in flight with UNAVAILABLE", async () => {
  const { child, port } = await startChildServer();
  const channel = open(`127.0.0.1:${port}`, { keepaliveTimeMs: 300, keepaliveTimeoutMs: 300 });
  const client = createClient(RouteGuide, channel);
  // A chat that stays open: one note, then the request stream waits until the test ends.
  let release!: () => void;
  const hold = new Promise<void>((resolve) => (release = resolve));
  cleanup.push(() => release());
  async function* notes() {
    yield { location: { latitude: 1, longitude: 1 }, message: "hello?" };
    await hold;
  }
  const received: RouteNote[] = [];
  const chat = (async () => {
    for await (const note of client.routeChat(notes(), { timeoutMs: 30_000 })) received.push(note);
  })();
  let failedAt: number | undefined;
  const outcome = chat.then(() => undefined, (err: unknown) => ((failedAt = performance.now()), err));
  // Healthy for a while: keepalive PINGs are answered and the call stays open.
  await sleep(1_000);
  assert.equal(failedAt, undefined, "a healthy peer answers every PING");
  assert.equal(channel.getConnectivityState(), "READY");

  const frozenAt = performance.now();
  child.kill("SIGSTOP");
  const error = await outcome;
  const detectedMs = (failedAt ?? performance.now()) - frozenAt;
  child.kill("SIGCONT");
  assert.ok(error instanceof GrpcError && error.code === Code.UNAVAILABLE, `the call ended with ${String(error)}`);
  assert.match(error.message, /keepalive/);
  // keepaliveTime (300) + keepaliveTimeout (300), plus generous slack for two shared cores.
  assert.ok(detectedMs <= 300 + 300 + 2_000, `detected after ${detectedMs.toFixed(0)} ms`);
  assert.deepEqual(received, []);
  // The connection is gone: the channel leaves READY (its close may trail the call's by a moment).
  assert.ok(await channel.watchConnectivityState("READY", Date.now() + 2_000), "the channel should leave READY");
});

test("keeps a connection whose peer answers PINGs through a call much longer than keepaliveTime", async () => {
  const server = await startServer((s) => s.add(Echo, echoService), { transport: "node-http2" });
  cleanup.push(() => server.close());
  const channel = open(server.target, { keepaliveTimeMs: 100, keepaliveTimeoutMs: 200 });
  const reply = await createClient(Echo, channel).unary({ message: "long", delayMs: 1_500 }, { timeoutMs: 10_000 });
  assert.equal(reply.message, "long");
  assert.equal(channel.getConnectivityState(), "READY");
});

interface PingLog {
  readonly port: number;
  /** Per connection: ms from connection to each PING received. */
  readonly connections: number[][];
  close(): Promise<void>;
}

/**
 * A raw HTTP/2 server that logs the PINGs of each connection and answers the first
 * PING of each of the first `goaways` connections with GOAWAY ENHANCE_YOUR_CALM
 * "too_many_pings", as gRPC servers police pings.
 */
async function startPingPolice(goaways: number): Promise<PingLog> {
  const server = http2.createServer();
  const connections: number[][] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    const start = performance.now();
    const pings: number[] = [];
    const index = connections.push(pings) - 1;
    sessions.add(session);
    session.on("error", () => undefined);
    session.once("close", () => sessions.delete(session));
    session.on("ping", () => {
      pings.push(Math.round(performance.now() - start));
      if (pings.length === 1 && index < goaways) session.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0, Buffer.from("too_many_pings"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const log: PingLog = {
    port: (server.address() as AddressInfo).port,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
  cleanup.push(() => log.close());
  return log;
}

async function connect(channel: Channel): Promise<void> {
  channel.getConnectivityState(true);
  const deadline = Date.now() + 5_000;
  while (channel.getConnectivityState() !== "READY" && Date.now() < deadline) await channel.watchConnectivityState(channel.getConnectivityState(), deadline);
  assert.equal(channel.getConnectivityState(), "READY");
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

test("GOAWAY too_many_pings doubles the keepalive time of the channel's next connections", async () => {
  const police = await startPingPolice(2);
  const channel = open(`127.0.0.1:${police.port}`, { keepaliveTimeMs: 200, keepalivePermitWithoutCalls: true });
  const firstPing = (i: number) => police.connections[i]?.[0];
  for (let i = 0; i < 3; i++) {
    await connect(channel);
    await waitFor(() => firstPing(i) !== undefined, 10_000);
    // The GOAWAY takes the channel out of READY; the next round connects again.
    if (i < 2) await waitFor(() => channel.getConnectivityState() !== "READY", 5_000);
  }
  const firsts = [0, 1, 2].map(firstPing) as number[];
  // 200 ms, then 400 ms, then 800 ms: timers fire late, never early.
  for (const [i, want] of [200, 400, 800].entries()) {
    assert.ok(firsts[i]! >= want - 20 && firsts[i]! <= want + 1_000, `connection ${i}: first PING after ${firsts[i]} ms, want ~${want} (all: ${JSON.stringify(firsts)})`);
  }
});

test("sends no keepalive PING without a call unless keepalivePermitWithoutCalls", async () => {
  const police = await startPingPolice(0);
  const quiet = open(`127.0.0.1:${police.port}`, { keepaliveTimeMs: 100, subchannelPool: undefined });
  await connect(quiet);
  await sleep(600);
  assert.deepEqual(police.connections.map((pings) => pings.length), [0]);
  const chatty = open(`127.0.0.1:${police.port}`, { keepaliveTimeMs: 100, keepalivePermitWithoutCalls: true });
  await connect(chatty);
  await waitFor(() => (police.connections[1]?.length ?? 0) >= 3, 5_000);
  assert.equal(police.connections[0]!.length, 0);
});
