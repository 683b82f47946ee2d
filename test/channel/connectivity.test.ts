/**
 * Channel connectivity (connectivity-semantics-and-api.md, wait-for-ready.md) on real
 * sockets: the states a channel passes through, fail-fast versus wait-for-ready calls
 * in TRANSIENT_FAILURE, the idle timeout, and close().
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, Server, createChannel, createClient, type Channel, type ChannelOptions } from "../../src/index.js";
import type { ConnectivityState } from "../../src/client/connectivity.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService, testTransport } from "../helpers/server.js";

const fastBackoff = { initialBackoffMs: 50, multiplier: 1.6, jitter: 0.2, maxBackoffMs: 200, minConnectTimeoutMs: 1_000 };
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

interface EchoServer {
  readonly port: number;
  /** ctx.peer.address of every call served. */
  readonly peers: string[];
}

async function startEchoOn(port = 0): Promise<EchoServer> {
  const server = new Server({ transport: testTransport });
  const peers: string[] = [];
  server.add(Echo, {
    ...echoService,
    unary: (req, ctx) => {
      peers.push(ctx.peer.address);
      return echoService.unary!(req, ctx);
    },
  });
  const address = await server.listen(`127.0.0.1:${port}`);
  if (!("port" in address)) throw new Error("expected a TCP address");
  cleanup.push(async () => {
    server.forceShutdown();
    await server.shutdown({ graceMs: 0 });
  });
  return { port: address.port, peers };
}

async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

function channelTo(port: number, options: ChannelOptions = {}): Channel {
  const channel = createChannel(`127.0.0.1:${port}`, undefined, { transport: testTransport, backoff: fastBackoff, ...options });
  cleanup.push(() => channel.close());
  return channel;
}

function recordStates(channel: Channel): ConnectivityState[] {
  const states: ConnectivityState[] = [];
  channel.onStateChange((s) => states.push(s));
  return states;
}

async function waitForState(channel: Channel, wanted: ConnectivityState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (channel.getConnectivityState() !== wanted) {
    if (!(await channel.watchConnectivityState(channel.getConnectivityState(), deadline))) return false;
  }
  return true;
}

const isCode = (code: Code) => (err: unknown) => err instanceof GrpcError && err.code === code;

test("a new channel is IDLE and goes IDLE → CONNECTING → READY when asked to connect", async () => {
  const server = await startEchoOn();
  const channel = channelTo(server.port);
  const states = recordStates(channel);
  assert.equal(channel.getConnectivityState(), "IDLE");
  await sleep(100);
  assert.deepEqual(states, [], "an idle channel does not connect by itself");
  assert.equal(channel.getConnectivityState(true), "CONNECTING");
  assert.ok(await waitForState(channel, "READY", 5_000));
  assert.deepEqual(states, ["CONNECTING", "READY"]);
  assert.equal(server.peers.length, 0, "connecting makes no call");
});

test("the first call takes an IDLE channel to READY", async () => {
  const server = await startEchoOn();
  const channel = channelTo(server.port);
  const states = recordStates(channel);
  const reply = await createClient(Echo, channel).unary({ message: "first" }, { timeoutMs: 5_000 });
  assert.equal(reply.message, "first");
  assert.deepEqual(states, ["CONNECTING", "READY"]);
});

test("watchConnectivityState resolves true on a change and false when its deadline passes", async () => {
  const server = await startEchoOn();
  const channel = channelTo(server.port);
  const started = Date.now();
  assert.equal(await channel.watchConnectivityState("IDLE", Date.now() + 150), false);
  assert.ok(Date.now() - started >= 140);
  const change = channel.watchConnectivityState("IDLE", Date.now() + 5_000);
  channel.getConnectivityState(true);
  assert.equal(await change, true);
  assert.equal(await channel.watchConnectivityState("IDLE"), true, "already different: resolves at once");
});

test("reports TRANSIENT_FAILURE when nothing is reachable and fails calls fast with UNAVAILABLE", async () => {
  const channel = channelTo(await unusedPort());
  const states = recordStates(channel);
  channel.getConnectivityState(true);
  assert.ok(await waitForState(channel, "TRANSIENT_FAILURE", 5_000), `states: ${states.join(" → ")}`);
  assert.deepEqual(states, ["CONNECTING", "TRANSIENT_FAILURE"]);
  const started = Date.now();
  await assert.rejects(createClient(Echo, channel).unary({ message: "x" }, { timeoutMs: 10_000 }), isCode(Code.UNAVAILABLE));
  assert.ok(Date.now() - started < 2_000, `fail-fast took ${Date.now() - started} ms of a 10 s deadline`);
});

test("a wait-for-ready call waits through TRANSIENT_FAILURE and succeeds once a server comes up", async () => {
  const port = await unusedPort();
  const channel = channelTo(port);
  const client = createClient(Echo, channel);
  channel.getConnectivityState(true);
  assert.ok(await waitForState(channel, "TRANSIENT_FAILURE", 5_000));
  const waiting = client.unary({ message: "patient" }, { timeoutMs: 10_000, waitForReady: true });
  let settled = false;
  void waiting.then(() => (settled = true), () => (settled = true));
  await sleep(300);
  assert.equal(settled, false, "the call waits while the channel is in TRANSIENT_FAILURE");
  const server = await startEchoOn(port);
  const reply = await waiting;
  assert.equal(reply.message, "patient");
  assert.equal(server.peers.length, 1);
  assert.equal(channel.getConnectivityState(), "READY");
});

test("a wait-for-ready call with nothing reachable fails DEADLINE_EXCEEDED at its deadline", async () => {
  const channel = channelTo(await unusedPort());
  const started = Date.now();
  await assert.rejects(createClient(Echo, channel).unary({ message: "x" }, { timeoutMs: 600, waitForReady: true }), isCode(Code.DEADLINE_EXCEEDED));
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 550 && elapsed < 5_000, `failed after ${elapsed} ms`);
  assert.equal(channel.getConnectivityState(), "TRANSIENT_FAILURE");
});

test("returns to IDLE after idleTimeoutMs without calls, and reconnects for the next call", async () => {
  const server = await startEchoOn();
  const channel = channelTo(server.port, { idleTimeoutMs: 200 });
  const states = recordStates(channel);
  const client = createClient(Echo, channel);
  await client.unary({ message: "one" }, { timeoutMs: 5_000 });
  await client.unary({ message: "two" }, { timeoutMs: 5_000 });
  assert.equal(channel.getConnectivityState(), "READY");
  assert.ok(await waitForState(channel, "IDLE", 5_000), `states: ${states.join(" → ")}`);
  await client.unary({ message: "three" }, { timeoutMs: 5_000 });
  assert.deepEqual(states, ["CONNECTING", "READY", "IDLE", "CONNECTING", "READY"]);
  // Going idle closed the connection: the third call came over a new one.
  assert.equal(server.peers[0], server.peers[1]);
  assert.notEqual(server.peers[2], server.peers[0]);
});

test("a channel connected without any call also returns to IDLE after idleTimeoutMs", async () => {
  const server = await startEchoOn();
  const channel = channelTo(server.port, { idleTimeoutMs: 200 });
  const states = recordStates(channel);
  channel.getConnectivityState(true);
  assert.ok(await waitForState(channel, "IDLE", 5_000), `states: ${states.join(" → ")}`);
  assert.deepEqual(states, ["CONNECTING", "READY", "IDLE"]);
});

test("does not go IDLE while a call is running longer than idleTimeoutMs", async () => {
  const server = await startEchoOn();
  const channel = channelTo(server.port, { idleTimeoutMs: 100 });
  const states = recordStates(channel);
  const client = createClient(Echo, channel);
  await client.unary({ message: "slow", delayMs: 500 }, { timeoutMs: 5_000 });
  assert.deepEqual(states, ["CONNECTING", "READY"]);
  assert.ok(await waitForState(channel, "IDLE", 5_000));
});

test("close() moves to SHUTDOWN and fails waiting calls and new calls with UNAVAILABLE", async () => {
  const channel = channelTo(await unusedPort());
  const states = recordStates(channel);
  const client = createClient(Echo, channel);
  channel.getConnectivityState(true);
  assert.ok(await waitForState(channel, "TRANSIENT_FAILURE", 5_000));
  const waiting = client.unary({ message: "waiting" }, { timeoutMs: 10_000, waitForReady: true });
  await sleep(50);
  const started = Date.now();
  channel.close();
  await assert.rejects(waiting, isCode(Code.UNAVAILABLE));
  assert.ok(Date.now() - started < 1_000, "the waiting call fails at once, not at its deadline");
  assert.equal(channel.getConnectivityState(), "SHUTDOWN");
  assert.equal(channel.getConnectivityState(true), "SHUTDOWN", "SHUTDOWN is terminal");
  assert.equal(states.at(-1), "SHUTDOWN");
  await assert.rejects(client.unary({ message: "after close" }, { timeoutMs: 5_000 }), isCode(Code.UNAVAILABLE));
});

test("close() lets a running call finish", async () => {
  const server = await startEchoOn();
  const channel = channelTo(server.port);
  const client = createClient(Echo, channel);
  const running = client.unary({ message: "in flight", delayMs: 300 }, { timeoutMs: 5_000 });
  await sleep(100);
  channel.close();
  assert.equal((await running).message, "in flight");
});
