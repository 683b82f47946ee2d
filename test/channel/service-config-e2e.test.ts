/**
 * Service config end to end (service_config.md, gRFC A21): per-method timeout,
 * waitForReady and message size limits, and the load-balancing choice, given to the
 * channel or delivered by a resolver (which wins); invalid configs are rejected when
 * the channel is created, and a resolver's invalid config never replaces a good one.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { Code, GrpcError, Server, createChannel, createClient, type Channel, type ChannelOptions } from "../../src/index.js";
import { parseServiceConfig, ServiceConfigError } from "../../src/client/config/service-config.js";
import { createManualResolver, registerResolver, type Address, type ResolverResult } from "../../src/client/resolver/index.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService, testTransport } from "../helpers/server.js";

const service = "grpcts.test.Echo";
const cleanup: (() => unknown)[] = [];
let port: number;
/** Calls that reached the server, by method name. */
const served: string[] = [];

async function startEchoServer(name: string): Promise<number> {
  const server = new Server({ transport: testTransport });
  server.add(Echo, {
    ...echoService,
    unary: async (req, ctx) => {
      served.push(`Unary ${req.message}`);
      return { ...(await echoService.unary!(req, ctx)), message: name };
    },
  });
  const address = await server.listen("127.0.0.1:0");
  cleanup.push(async () => {
    server.forceShutdown();
    await server.shutdown({ graceMs: 0 });
  });
  return (address as { port: number }).port;
}

before(async () => {
  port = await startEchoServer("main");
});
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

function open(target: string, options: ChannelOptions = {}): Channel {
  const channel = createChannel(target, undefined, { transport: testTransport, ...options });
  cleanup.push(() => channel.close());
  return channel;
}

async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port: free } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return free;
}

const isCode = (code: Code) => (err: unknown) => err instanceof GrpcError && err.code === code;

async function elapsed(work: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = Date.now();
  try {
    await work;
    return { ms: Date.now() - started, error: undefined };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

test("a method's timeout from the channel's service config fails slow calls with DEADLINE_EXCEEDED", async () => {
  const channel = open(`127.0.0.1:${port}`, {
    serviceConfig: { methodConfig: [{ name: [{ service, method: "Unary" }], timeout: "0.6s" }] },
  });
  const client = createClient(Echo, channel);
  const slow = await elapsed(client.unary({ message: "slow", delayMs: 3_000 }));
  assert.ok(isCode(Code.DEADLINE_EXCEEDED)(slow.error), String(slow.error));
  assert.ok(slow.ms >= 580 && slow.ms < 2_500, `failed after ${slow.ms} ms, timeout 600 ms`);
  // A shorter call timeout wins; a longer one does not.
  const shorter = await elapsed(client.unary({ message: "slow", delayMs: 3_000 }, { timeoutMs: 100 }));
  assert.ok(isCode(Code.DEADLINE_EXCEEDED)(shorter.error) && shorter.ms < 500, `took ${shorter.ms} ms`);
  const longer = await elapsed(client.unary({ message: "slow", delayMs: 3_000 }, { timeoutMs: 10_000 }));
  assert.ok(isCode(Code.DEADLINE_EXCEEDED)(longer.error) && longer.ms < 2_500, `took ${longer.ms} ms`);
  // Other methods have no timeout.
  const stream = [];
  for await (const m of client.serverStream({ message: "s", count: 2, delayMs: 250 })) stream.push(m.index);
  assert.deepEqual(stream, [0, 1]);
});

test("a service-wide entry applies to every method of the service; a method entry wins over it", async () => {
  const channel = open(`127.0.0.1:${port}`, {
    serviceConfig: JSON.stringify({
      methodConfig: [
        { name: [{ service }], timeout: "0.2s" },
        { name: [{ service, method: "Unary" }], timeout: "5s" },
      ],
    }),
  });
  const client = createClient(Echo, channel);
  assert.equal((await client.unary({ message: "x", delayMs: 400 })).message, "main");
  const stream = await elapsed((async () => {
    for await (const _ of client.serverStream({ message: "s", count: 3, delayMs: 300 })) void _;
  })());
  assert.ok(isCode(Code.DEADLINE_EXCEEDED)(stream.error), String(stream.error));
});

test("waitForReady from the service config makes calls wait through TRANSIENT_FAILURE; the call option overrides it", async () => {
  const channel = open(`127.0.0.1:${await unusedPort()}`, {
    serviceConfig: { methodConfig: [{ name: [{ service, method: "Unary" }], waitForReady: true }] },
    backoff: { initialBackoffMs: 50, maxBackoffMs: 200 },
  });
  const client = createClient(Echo, channel);
  const waited = await elapsed(client.unary({ message: "x" }, { timeoutMs: 500 }));
  assert.ok(isCode(Code.DEADLINE_EXCEEDED)(waited.error), `wait-for-ready ends at the deadline: ${String(waited.error)}`);
  assert.equal(channel.getConnectivityState(), "TRANSIENT_FAILURE");
  const overridden = await elapsed(client.unary({ message: "x" }, { timeoutMs: 5_000, waitForReady: false }));
  assert.ok(isCode(Code.UNAVAILABLE)(overridden.error) && overridden.ms < 2_000, `fail-fast: ${String(overridden.error)} after ${overridden.ms} ms`);
  const otherMethod = await elapsed((async () => {
    for await (const _ of client.serverStream({ message: "s", count: 1 }, { timeoutMs: 5_000 })) void _;
  })());
  assert.ok(isCode(Code.UNAVAILABLE)(otherMethod.error) && otherMethod.ms < 2_000, `methods without the entry fail fast: ${String(otherMethod.error)}`);
});

test("maxRequestMessageBytes and maxResponseMessageBytes from the service config fail calls with RESOURCE_EXHAUSTED", async () => {
  const limit = (field: string) => open(`127.0.0.1:${port}`, { serviceConfig: { methodConfig: [{ name: [{ service, method: "Unary" }], [field]: 100 }] } });
  const requests = createClient(Echo, limit("maxRequestMessageBytes"));
  served.length = 0;
  // EchoRequest{message, payload}: 2 + 7 bytes of message, 2 + payload bytes.
  await assert.rejects(requests.unary({ message: "too big", payload: new Uint8Array(100) }, { timeoutMs: 5_000 }), isCode(Code.RESOURCE_EXHAUSTED));
  assert.deepEqual(served, [], "a request over the limit is never sent");
  assert.equal((await requests.unary({ message: "fits", payload: new Uint8Array(90) }, { timeoutMs: 5_000 })).message, "main");

  // The reply echoes the payload: a request under the request limit can bring back a reply over the response limit.
  const responses = createClient(Echo, limit("maxResponseMessageBytes"));
  served.length = 0;
  await assert.rejects(responses.unary({ message: "r", payload: new Uint8Array(120) }, { timeoutMs: 5_000 }), isCode(Code.RESOURCE_EXHAUSTED));
  assert.deepEqual(served, ["Unary r"], "the server answered; the client refused the reply");
  assert.equal((await responses.unary({ message: "r", payload: new Uint8Array(80) }, { timeoutMs: 5_000 })).message, "main");
});

test("the load-balancing policy named in the service config is used", async () => {
  const other = await startEchoServer("other");
  const target = `ipv4:127.0.0.1:${port},127.0.0.1:${other}`;
  for (const serviceConfig of [{ loadBalancingConfig: [{ round_robin: {} }] }, { loadBalancingPolicy: "round_robin" }]) {
    const client = createClient(Echo, open(target, { serviceConfig }));
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) seen.add((await client.unary({ message: "lb" }, { timeoutMs: 5_000 })).message);
    assert.deepEqual([...seen].sort(), ["main", "other"], JSON.stringify(serviceConfig));
  }
  // The channel option overrides the config's choice.
  const forced = createClient(Echo, open(target, { serviceConfig: { loadBalancingPolicy: "round_robin" }, loadBalancingPolicy: "pick_first" }));
  const seen = new Set<string>();
  for (let i = 0; i < 10; i++) seen.add((await forced.unary({ message: "lb" }, { timeoutMs: 5_000 })).message);
  assert.deepEqual([...seen], ["main"]);
});

test("a service config delivered by the manual resolver applies, wins over the channel's, and can change at run time", async () => {
  const addresses: Address[] = [{ host: "127.0.0.1", port }];
  const resolver = createManualResolver();
  const channel = open(`${resolver.scheme}:///configured`, {
    serviceConfig: { methodConfig: [{ name: [{ service }], timeout: "10s" }] },
  });
  const client = createClient(Echo, channel);
  resolver.update(addresses, parseServiceConfig({ methodConfig: [{ name: [{ service, method: "Unary" }], timeout: "0.3s" }] }));
  // Calls look the config up when they start: let the resolver answer first (see the todo below).
  channel.getConnectivityState(true);
  assert.ok(await channel.watchConnectivityState("CONNECTING", Date.now() + 5_000));
  const fromResolver = await elapsed(client.unary({ message: "slow", delayMs: 3_000 }));
  assert.ok(isCode(Code.DEADLINE_EXCEEDED)(fromResolver.error) && fromResolver.ms < 2_500, `${String(fromResolver.error)} after ${fromResolver.ms} ms`);
  resolver.update(addresses, parseServiceConfig({ methodConfig: [{ name: [{ service, method: "Unary" }], maxRequestMessageBytes: 50 }] }));
  await assert.rejects(client.unary({ message: "big", payload: new Uint8Array(100) }, { timeoutMs: 5_000 }), isCode(Code.RESOURCE_EXHAUSTED));
  assert.equal((await client.unary({ message: "a while", delayMs: 500 }, { timeoutMs: 5_000 })).message, "main", "the new config has no timeout");

  // waitForReady: with nowhere to connect the call waits, and goes through once the resolver has a live address again.
  const waitConfig = parseServiceConfig({ methodConfig: [{ name: [{ service, method: "Unary" }], waitForReady: true }] });
  resolver.update([{ host: "127.0.0.1", port: await unusedPort() }], waitConfig);
  const deadline = Date.now() + 5_000;
  while (channel.getConnectivityState() !== "TRANSIENT_FAILURE" && Date.now() < deadline) await channel.watchConnectivityState(channel.getConnectivityState(), deadline);
  assert.equal(channel.getConnectivityState(), "TRANSIENT_FAILURE");
  const waiting = client.unary({ message: "waits" }, { timeoutMs: 5_000 });
  await new Promise((resolve) => setTimeout(resolve, 300));
  resolver.update(addresses, waitConfig);
  assert.equal((await waiting).message, "main");
});

test("a call started before the resolver's first answer gets the config that answer brings", async () => {
  const resolver = createManualResolver();
  resolver.update([{ host: "127.0.0.1", port }], parseServiceConfig({ methodConfig: [{ name: [{ service, method: "Unary" }], timeout: "0.3s" }] }));
  const client = createClient(Echo, open(`${resolver.scheme}:///first-call`));
  const first = await elapsed(client.unary({ message: "slow", delayMs: 1_500 }));
  assert.ok(isCode(Code.DEADLINE_EXCEEDED)(first.error), `the first call ended ${String(first.error)} after ${first.ms} ms`);
});

test("an invalid service config fails channel creation with a ServiceConfigError naming the field", () => {
  const cases: [string | object, RegExp][] = [
    ["{not json", /not JSON/],
    [{ methodConfig: [{ name: [{ service }], timeout: "soon" }] }, /methodConfig\[0\]\.timeout/],
    [{ methodConfig: [{ name: [{ service }], retryPolicy: { maxAttempts: 1, initialBackoff: "1s", maxBackoff: "1s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"] } }] }, /maxAttempts/],
    [{ methodConfig: [{ name: [{ service }], maxRequestMessageBytes: -1 }] }, /maxRequestMessageBytes/],
    [{ retryThrottling: { maxTokens: 0, tokenRatio: 1 } }, /retryThrottling\.maxTokens/],
    [{ loadBalancingConfig: [{ round_robin: {}, pick_first: {} }] }, /loadBalancingConfig\[0\]/],
  ];
  for (const [config, field] of cases) {
    assert.throws(() => createChannel(`127.0.0.1:${port}`, undefined, { serviceConfig: config }), (err: unknown) => {
      assert.ok(err instanceof ServiceConfigError, `${JSON.stringify(config)} threw ${String(err)}`);
      assert.match(err.message, field);
      return true;
    });
  }
});

test("a resolver's invalid service config: TRANSIENT_FAILURE with no good one, the last good one kept otherwise", async () => {
  let deliver: ((result: ResolverResult) => void) | undefined;
  const scheme = "config-test";
  registerResolver({
    scheme,
    defaultAuthority: () => "config-test",
    create(_target, listener) {
      deliver = (result) => listener.onResult(result);
      return { resolveNow() {}, close() {} };
    },
  });
  const addresses = [{ host: "127.0.0.1", port }];
  const invalid = new ServiceConfigError("invalid service config: methodConfig[0].timeout must be a duration");

  const noGoodConfig = open(`${scheme}:///a`);
  noGoodConfig.getConnectivityState(true);
  deliver!({ addresses, serviceConfig: invalid });
  assert.equal(noGoodConfig.getConnectivityState(), "TRANSIENT_FAILURE");
  await assert.rejects(createClient(Echo, noGoodConfig).unary({ message: "x" }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE && err.message.includes("methodConfig[0].timeout"));

  const withGoodConfig = open(`${scheme}:///b`);
  const client = createClient(Echo, withGoodConfig);
  withGoodConfig.getConnectivityState(true);
  deliver!({ addresses, serviceConfig: parseServiceConfig({ methodConfig: [{ name: [{ service }], timeout: "0.3s" }] }) });
  await assert.rejects(client.unary({ message: "slow", delayMs: 3_000 }), isCode(Code.DEADLINE_EXCEEDED));
  deliver!({ addresses, serviceConfig: invalid });
  const kept = await elapsed(client.unary({ message: "slow", delayMs: 3_000 }));
  assert.ok(isCode(Code.DEADLINE_EXCEEDED)(kept.error) && kept.ms < 2_500, `the 0.3 s timeout stays: ${String(kept.error)} after ${kept.ms} ms`);
});
