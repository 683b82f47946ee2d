/**
 * Name resolution end to end: every target form the channel accepts reaches a real
 * server (dns, plain host:port, ipv4 lists, ipv6, unix paths, abstract sockets), a
 * resolver registered by the application is used for its scheme, the manual resolver
 * moves calls when its addresses change, and the dns resolver is asked again when a
 * connection is lost or a GOAWAY arrives, never more often than its minimum interval,
 * and never by itself.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, Server, createChannel, createClient, type Channel, type ChannelOptions } from "../../src/index.js";
import { createManualResolver, registerResolver, type Address, type ResolverFactory } from "../../src/client/resolver/index.js";
import { dnsResolver } from "../../src/client/resolver/dns.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService, testTransport } from "../helpers/server.js";

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

interface NamedServer {
  readonly server: Server;
  /** What the server answers in every reply: which server served the call. */
  readonly name: string;
  readonly port: number;
  /** graceMs 0: close at once; otherwise GOAWAY and let running calls finish. */
  stop(graceMs?: number): Promise<void>;
}

/** An Echo server listening on `address` whose replies carry its name. */
async function startNamed(name: string, address = "127.0.0.1:0"): Promise<NamedServer> {
  const server = new Server({ transport: testTransport });
  server.add(Echo, {
    ...echoService,
    unary: async (req, ctx) => ({ ...(await echoService.unary!(req, ctx)), message: name }),
  });
  const bound = await server.listen(address);
  const stop = async (graceMs = 0) => {
    if (graceMs === 0) server.forceShutdown();
    await server.shutdown({ graceMs });
  };
  cleanup.push(() => stop());
  return { server, name, port: "port" in bound ? bound.port : 0, stop };
}

function open(target: string, options: ChannelOptions = {}): Channel {
  const channel = createChannel(target, undefined, { transport: testTransport, ...options });
  cleanup.push(() => channel.close());
  return channel;
}

async function servedBy(channel: Channel): Promise<string> {
  return (await createClient(Echo, channel).unary({ message: "who?" }, { timeoutMs: 5_000 })).message;
}

async function hasIpv6Loopback(): Promise<boolean> {
  const probe = net.createServer();
  return new Promise((resolve) => {
    probe.once("error", () => resolve(false));
    probe.listen(0, "::1", () => probe.close(() => resolve(true)));
  });
}

test("dns:///localhost:port reaches a server on the loopback", async () => {
  const s = await startNamed("dns", "127.0.0.1:0");
  assert.equal(await servedBy(open(`dns:///localhost:${s.port}`)), "dns");
});

test("a plain host:port target is resolved with dns", async () => {
  const s = await startNamed("plain");
  assert.equal(await servedBy(open(`localhost:${s.port}`)), "plain");
  assert.equal(await servedBy(open(`127.0.0.1:${s.port}`)), "plain");
});

test("ipv4:a:p,b:p gives the balancer both addresses", async () => {
  const a = await startNamed("a");
  const b = await startNamed("b");
  const channel = open(`ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`, { loadBalancingPolicy: "round_robin" });
  const seen = new Set<string>();
  for (let i = 0; i < 40 && seen.size < 2; i++) seen.add(await servedBy(channel));
  assert.deepEqual([...seen].sort(), ["a", "b"]);
});

test("ipv6:[::1]:port reaches a server on the IPv6 loopback", async (t) => {
  if (!(await hasIpv6Loopback())) return t.skip("this machine has no IPv6 loopback");
  const s = await startNamed("v6", "[::1]:0");
  assert.equal(await servedBy(open(`ipv6:[::1]:${s.port}`)), "v6");
});

test("unix:path and unix:///absolute/path reach a unix socket server", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "grpc-ts-resolvers-"));
  cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const socket = path.join(dir, "echo.sock");
  await startNamed("unix", `unix:${socket}`);
  assert.equal(await servedBy(open(`unix:${socket}`)), "unix");
  assert.equal(await servedBy(open(`unix://${socket}`)), "unix");
  assert.equal(await servedBy(open(`unix:${path.relative(process.cwd(), socket)}`)), "unix", "a relative path works too");
});

test("unix-abstract:name reaches a server on a Linux abstract socket", async (t) => {
  if (process.platform !== "linux") return t.skip("abstract sockets are Linux only");
  const name = `grpc-ts-test-${process.pid}-${Date.now()}`;
  await startNamed("abstract", `unix:\0${name}`);
  assert.equal(await servedBy(open(`unix-abstract:${name}`)), "abstract");
});

test("a resolver registered for a new scheme resolves that scheme's targets", async () => {
  const blue = await startNamed("blue");
  const green = await startNamed("green");
  const directory = new Map<string, Address[]>([["blue", [{ host: "127.0.0.1", port: blue.port }]], ["green", [{ host: "127.0.0.1", port: green.port }]]]);
  const created: string[] = [];
  registerResolver({
    scheme: "directory",
    defaultAuthority: (target) => target.endpoint,
    create(target, listener) {
      created.push(target.endpoint);
      const addresses = directory.get(target.endpoint);
      queueMicrotask(() => (addresses === undefined ? listener.onError(new Error(`no service named ${target.endpoint}`)) : listener.onResult({ addresses })));
      return { resolveNow() {}, close() {} };
    },
  });
  assert.equal(await servedBy(open("directory:///green")), "green");
  assert.equal(await servedBy(open("directory:blue")), "blue");
  assert.deepEqual(created, ["green", "blue"]);
  await assert.rejects(servedBy(open("directory:///red")), (err: GrpcError) => err.code === Code.UNAVAILABLE && err.message.includes("no service named red"));
});

test("a name that does not resolve fails calls with UNAVAILABLE", async () => {
  const channel = open("dns:///no-such-host.invalid:50051");
  await assert.rejects(servedBy(channel), (err: GrpcError) => err.code === Code.UNAVAILABLE && /resol/.test(err.message));
  assert.equal(channel.getConnectivityState(), "TRANSIENT_FAILURE");
});

test("the manual resolver moves calls to new addresses at run time", async () => {
  const one = await startNamed("one");
  const two = await startNamed("two");
  const resolver = createManualResolver([{ host: "127.0.0.1", port: one.port }]);
  const channel = open(`${resolver.scheme}:///service`);
  assert.equal(await servedBy(channel), "one");
  resolver.update([{ host: "127.0.0.1", port: two.port }]);
  // The update reaches the channel at once; the next call picks the new address.
  const deadline = Date.now() + 5_000;
  let got = await servedBy(channel);
  while (got !== "two" && Date.now() < deadline) got = await servedBy(channel);
  assert.equal(got, "two");
  assert.equal(await servedBy(channel), "two");
  resolver.update([]);
  await assert.rejects(servedBy(channel), (err: GrpcError) => err.code === Code.UNAVAILABLE && err.message.includes("no addresses"));
});

test("the channel asks its resolver again when the connection is lost", async () => {
  const s = await startNamed("lost");
  const resolver = createManualResolver([{ host: "127.0.0.1", port: s.port }]);
  const channel = open(`${resolver.scheme}:///service`);
  await servedBy(channel);
  assert.equal(resolver.resolveNowCount, 0);
  await s.stop();
  await waitFor(() => resolver.resolveNowCount > 0, 5_000);
  assert.equal(resolver.resolveNowCount, 1);
});

/** The dns resolver under another scheme, counting the channel's requests and the lookups made. */
function countingDns(): { scheme: string; requests: number; lookups: number } {
  const counts = { scheme: `counting-dns-${Math.random().toString(36).slice(2, 8)}`, requests: 0, lookups: 0 };
  const factory: ResolverFactory = {
    scheme: counts.scheme,
    defaultAuthority: (target) => target.endpoint,
    create(target, listener, options) {
      const inner = dnsResolver.create(target, {
        onResult: (result) => {
          counts.lookups++;
          listener.onResult(result);
        },
        onError: (error) => {
          counts.lookups++;
          listener.onError(error);
        },
      }, options);
      return {
        resolveNow() {
          counts.requests++;
          inner.resolveNow();
        },
        close: () => inner.close(),
      };
    },
  };
  registerResolver(factory);
  return counts;
}

test("dns: resolves again on a lost connection and on GOAWAY, and never polls", async () => {
  const counts = countingDns();
  let s = await startNamed("first");
  const port = s.port;
  const channel = open(`${counts.scheme}:///localhost:${port}`, { minResolutionIntervalMs: 50 });
  const client = createClient(Echo, channel);
  await servedBy(channel);
  assert.deepEqual([counts.requests, counts.lookups], [0, 1]);
  await sleep(400);
  assert.deepEqual([counts.requests, counts.lookups], [0, 1], "no resolution without a reason");

  // GOAWAY while a call keeps the connection open: the connection is not lost yet.
  const slow = client.unary({ message: "slow", delayMs: 600 }, { timeoutMs: 5_000 });
  await sleep(100);
  const stopping = s.stop(5_000);
  await waitFor(() => counts.requests === 1, 5_000);
  await waitFor(() => counts.lookups === 2, 5_000);
  assert.equal((await slow).message, "first", "the call running at GOAWAY finishes");
  await stopping;

  // A lost connection.
  s = await startNamed("second", `127.0.0.1:${port}`);
  assert.equal(await servedBy(channel), "second");
  const before = counts.lookups;
  await s.stop();
  await waitFor(() => counts.lookups > before, 5_000);
  await sleep(400);
  assert.equal(counts.lookups, before + 1, "one lookup per request, then nothing");
});

test("dns: re-resolution is rate-limited to the minimum interval (30 s by default)", async () => {
  const counts = countingDns();
  let server = await startNamed("limited");
  const port = server.port;
  const channel = open(`${counts.scheme}:///localhost:${port}`);
  // Four lost connections within a few seconds: four requests, still a single lookup.
  for (let i = 1; i <= 4; i++) {
    await servedBy(channel);
    await server.stop();
    await waitFor(() => counts.requests === i, 5_000);
    server = await startNamed(`restarted ${i}`, `127.0.0.1:${port}`);
  }
  assert.equal(await servedBy(channel), "restarted 4");
  assert.equal(counts.lookups, 1, `${counts.requests} requests must not cause a second lookup within 30 s`);
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
