/**
 * pick_first (gRFC A62) on real sockets: the first address that connects takes every
 * call over one connection; a dead first address, or one that dies later, moves the
 * channel to the next; with nothing reachable the channel stays in TRANSIENT_FAILURE
 * until a backend comes up; shuffleAddressList spreads channels over the addresses.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, Server, createChannel, createClient, type Channel, type ChannelOptions } from "../../src/index.js";
import type { ConnectivityState } from "../../src/client/connectivity.js";
import { createManualResolver } from "../../src/client/resolver/index.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService, testTransport } from "../helpers/server.js";

interface PeerServer {
  port: number;
  /** ctx.peer.address of every call served. */
  readonly peers: string[];
  server: Server;
}

async function startRecording(port = 0, existing?: PeerServer): Promise<PeerServer> {
  const server = new Server({ transport: testTransport });
  const entry: PeerServer = existing ?? { port, peers: [], server };
  entry.server = server;
  server.add(Echo, {
    ...echoService,
    unary: (req, ctx) => {
      entry.peers.push(ctx.peer.address);
      return echoService.unary!(req, ctx);
    },
  });
  const address = await server.listen(`127.0.0.1:${port}`);
  if (!("port" in address)) throw new Error("expected a TCP address");
  entry.port = address.port;
  return entry;
}

async function stop(entry: PeerServer): Promise<void> {
  entry.server.forceShutdown();
  await entry.server.shutdown({ graceMs: 0 });
}

/** A port nothing listens on (connections are refused). */
async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const fastBackoff = { initialBackoffMs: 50, multiplier: 1.6, jitter: 0.2, maxBackoffMs: 300, minConnectTimeoutMs: 1_000 };
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

function channelTo(ports: readonly number[], options: ChannelOptions = {}): Channel {
  const channel = createChannel(`ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(",")}`, undefined, { transport: testTransport, backoff: fastBackoff, ...options });
  cleanup.push(() => channel.close());
  return channel;
}

test("sends every call to the first address over a single connection", async () => {
  const a = await startRecording();
  const b = await startRecording();
  cleanup.push(() => stop(a), () => stop(b));
  const client = createClient(Echo, channelTo([a.port, b.port]));
  for (let i = 0; i < 10; i++) await client.unary({ message: `call ${i}` }, { timeoutMs: 5_000 });
  await Promise.all(Array.from({ length: 10 }, () => client.unary({ message: "parallel" }, { timeoutMs: 5_000 })));
  assert.equal(a.peers.length, 20);
  assert.equal(b.peers.length, 0);
  assert.equal(new Set(a.peers).size, 1, `one connection, got peers ${JSON.stringify([...new Set(a.peers)])}`);
});

test("skips a first address that refuses connections", async () => {
  const dead = await unusedPort();
  const live = await startRecording();
  cleanup.push(() => stop(live));
  const channel = channelTo([dead, live.port]);
  const reply = await createClient(Echo, channel).unary({ message: "hello" }, { timeoutMs: 5_000 });
  assert.equal(reply.message, "hello");
  assert.equal(live.peers.length, 1);
  assert.equal(channel.getConnectivityState(), "READY");
});

test("fails over to the next address when the one in use goes down", async () => {
  const a = await startRecording();
  const b = await startRecording();
  cleanup.push(() => stop(b));
  const channel = channelTo([a.port, b.port]);
  const client = createClient(Echo, channel);
  await client.unary({ message: "to a" }, { timeoutMs: 5_000 });
  assert.deepEqual([a.peers.length, b.peers.length], [1, 0]);
  await stop(a);
  // The lost connection takes the channel to IDLE; the next call connects again from the top.
  const idle = await channel.watchConnectivityState("READY", Date.now() + 5_000);
  assert.ok(idle, "the channel should leave READY when its connection is lost");
  for (let i = 0; i < 5; i++) await client.unary({ message: `to b ${i}` }, { timeoutMs: 5_000 });
  assert.deepEqual([a.peers.length, b.peers.length], [1, 5]);
  assert.equal(channel.getConnectivityState(), "READY");
});

test("reconnects after a lost connection when the resolver delivers the same address again", async () => {
  const a = await startRecording();
  const resolver = createManualResolver([{ host: "127.0.0.1", port: a.port }]);
  const channel = createChannel(`${resolver.scheme}:///same`, undefined, { transport: testTransport, backoff: fastBackoff });
  cleanup.push(() => channel.close());
  const client = createClient(Echo, channel);
  await client.unary({ message: "before" }, { timeoutMs: 5_000 });
  await stop(a);
  assert.ok(await waitForState(channel, "IDLE", 5_000), "a lost connection takes the channel to IDLE");
  await startRecording(a.port, a);
  cleanup.push(() => stop(a));
  // A re-resolution answers with the address the channel already has.
  resolver.update([{ host: "127.0.0.1", port: a.port }]);
  const reply = await client.unary({ message: "after" }, { timeoutMs: 5_000 });
  assert.equal(reply.message, "after");
  assert.equal(a.peers.length, 2);
});

test("stays in TRANSIENT_FAILURE while nothing is reachable, then becomes READY when a backend comes up", async () => {
  const [p1, p2] = [await unusedPort(), await unusedPort()];
  const channel = channelTo([p1, p2]);
  const states: ConnectivityState[] = [];
  channel.onStateChange((s) => states.push(s));
  const client = createClient(Echo, channel);
  await assert.rejects(client.unary({ message: "nobody home" }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
  assert.equal(channel.getConnectivityState(), "TRANSIENT_FAILURE");
  // Both subchannels keep retrying with backoff; A62: the channel does not flap to CONNECTING.
  await sleep(500);
  assert.deepEqual(states, ["CONNECTING", "TRANSIENT_FAILURE"]);
  const late = await startRecording(p2);
  cleanup.push(() => stop(late));
  const ready = await waitForState(channel, "READY", 5_000);
  assert.ok(ready, `the channel should become READY by itself, states: ${states.join(" → ")}`);
  assert.deepEqual(states, ["CONNECTING", "TRANSIENT_FAILURE", "READY"]);
  await client.unary({ message: "now" }, { timeoutMs: 5_000 });
  assert.equal(late.peers.length, 1);
});

test("shuffleAddressList spreads channels over the addresses; without it they all take the first", async () => {
  const servers = [await startRecording(), await startRecording(), await startRecording()];
  cleanup.push(() => Promise.all(servers.map(stop)));
  const ports = servers.map((s) => s.port);
  const firstChoices = async (serviceConfig: object | undefined): Promise<number[]> => {
    for (const s of servers) s.peers.length = 0;
    for (let i = 0; i < 12; i++) {
      const channel = channelTo(ports, { serviceConfig, subchannelPool: undefined });
      await createClient(Echo, channel).unary({ message: "which?" }, { timeoutMs: 5_000 });
      channel.close();
    }
    return servers.map((s) => s.peers.length);
  };
  assert.deepEqual(await firstChoices(undefined), [12, 0, 0]);
  const shuffled = await firstChoices({ loadBalancingConfig: [{ pick_first: { shuffleAddressList: true } }] });
  assert.equal(shuffled.reduce((a, b) => a + b, 0), 12);
  // All twelve on one server has a probability of 3 × (1/3)^12.
  assert.ok(shuffled.filter((n) => n > 0).length >= 2, `shuffled first choices: ${JSON.stringify(shuffled)}`);
});

async function waitForState(channel: Channel, wanted: ConnectivityState, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (channel.getConnectivityState() !== wanted) {
    if (!(await channel.watchConnectivityState(channel.getConnectivityState(), deadline))) return false;
  }
  return true;
}
