/**
 * round_robin on real sockets: three Echo servers behind one ipv4: target, calls
 * counted per server. A server that stops drops out of the rotation without failing
 * calls, and gets traffic again once it listens on the same port.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Server, createChannel, createClient, type Channel } from "../../src/index.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService, testTransport } from "../helpers/server.js";

interface CountingServer {
  readonly port: number;
  calls: number;
  server: Server;
}

/** An Echo server on 127.0.0.1:`port` (0: a free one) that counts the calls it serves. */
async function startCounting(port = 0, counter?: CountingServer): Promise<CountingServer> {
  const server = new Server({ transport: testTransport });
  const entry: CountingServer = counter ?? { port, calls: 0, server };
  entry.server = server;
  server.add(Echo, {
    ...echoService,
    unary: (req, ctx) => {
      entry.calls++;
      return echoService.unary!(req, ctx);
    },
  });
  const address = await server.listen(`127.0.0.1:${port}`);
  if (!("port" in address)) throw new Error("expected a TCP address");
  (entry as { port: number }).port = address.port;
  return entry;
}

async function stop(entry: CountingServer): Promise<void> {
  entry.server.forceShutdown();
  await entry.server.shutdown({ graceMs: 0 });
}

const servers: CountingServer[] = [];
let channel: Channel;
let client: ReturnType<typeof createClient<typeof Echo>>;

before(async () => {
  for (let i = 0; i < 3; i++) servers.push(await startCounting());
  const target = `ipv4:${servers.map((s) => `127.0.0.1:${s.port}`).join(",")}`;
  channel = createChannel(target, undefined, {
    loadBalancingPolicy: "round_robin",
    transport: testTransport,
    // A restarted server is found again within a second or so.
    backoff: { initialBackoffMs: 50, multiplier: 1.6, jitter: 0.2, maxBackoffMs: 300, minConnectTimeoutMs: 1_000 },
  });
  client = createClient(Echo, channel);
});

after(async () => {
  channel.close();
  await Promise.all(servers.map(stop));
});

/** Calls until every server has served at least one, so all three subchannels are READY. */
async function warmUp(expected: readonly CountingServer[]): Promise<void> {
  for (let i = 0; i < 200 && expected.some((s) => s.calls === 0); i++) {
    await client.unary({ message: "warm-up" }, { timeoutMs: 5_000 });
    if (i > 10) await sleep(10);
  }
  assert.deepEqual(expected.map((s) => s.calls > 0), expected.map(() => true), "every server should get a call during warm-up");
  for (const s of servers) s.calls = 0;
}

test("spreads 300 calls evenly over three servers (100 each, within ±10%)", async () => {
  await warmUp(servers);
  // In batches of 30 concurrent calls: the picker rotates per call, not per connection.
  for (let batch = 0; batch < 10; batch++) {
    await Promise.all(Array.from({ length: 30 }, (_, i) => client.unary({ message: `call ${batch * 30 + i}` }, { timeoutMs: 10_000 })));
  }
  const counts = servers.map((s) => s.calls);
  assert.equal(counts.reduce((a, b) => a + b, 0), 300);
  for (const [i, count] of counts.entries()) {
    assert.ok(count >= 90 && count <= 110, `server ${i} served ${count} of 300 calls: ${JSON.stringify(counts)}`);
  }
});

test("keeps every call succeeding on the other two when one server stops", async () => {
  const [first, second, third] = servers as [CountingServer, CountingServer, CountingServer];
  await stop(second);
  // Calls already written to the dying connection may fail; the ones after it is gone must not.
  await sleep(200);
  for (const s of servers) s.calls = 0;
  const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => client.unary({ message: `after stop ${i}` }, { timeoutMs: 10_000 })));
  const failed = results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason));
  assert.deepEqual(failed, []);
  assert.equal(second.calls, 0);
  assert.equal(first.calls + third.calls, 60);
  assert.ok(first.calls >= 20 && third.calls >= 20, `the two live servers share the calls: ${first.calls} / ${third.calls}`);
  assert.equal(channel.getConnectivityState(), "READY");
});

test("gives a restarted server (same port) traffic again", async () => {
  const second = servers[1]!;
  await startCounting(second.port, second);
  for (const s of servers) s.calls = 0;
  // Its subchannel reconnects after its backoff (at most ~300 ms here): call until it serves.
  const deadline = Date.now() + 10_000;
  while (second.calls === 0 && Date.now() < deadline) {
    await client.unary({ message: "probe" }, { timeoutMs: 5_000 });
    await sleep(20);
  }
  assert.ok(second.calls > 0, "the restarted server should serve calls again");
  for (const s of servers) s.calls = 0;
  await Promise.all(Array.from({ length: 90 }, (_, i) => client.unary({ message: `after restart ${i}` }, { timeoutMs: 10_000 })));
  const counts = servers.map((s) => s.calls);
  for (const [i, count] of counts.entries()) assert.ok(count >= 27 && count <= 33, `server ${i} served ${count} of 90: ${JSON.stringify(counts)}`);
});
