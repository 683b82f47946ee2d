/**
 * Client-side health checking (gRFC A17): with healthCheckConfig in the service config,
 * a round_robin channel sends calls only to backends whose grpc.health.v1 Watch says
 * SERVING, and follows their status as it changes.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Server, ServingStatus, addHealthService, createChannel, createClient, type HealthRegistry } from "../../src/index.js";
import { Echo } from "../gen/echo_pb.js";

const service = "grpcts.test.Echo";
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

interface Backend {
  port: number;
  health: HealthRegistry | undefined;
  calls: number;
}

async function startBackend(withHealth: boolean): Promise<Backend> {
  const backend: Backend = { port: 0, health: undefined, calls: 0 };
  const server = new Server();
  server.add(Echo, {
    async unary(req) {
      backend.calls++;
      return { message: req.message };
    },
  });
  if (withHealth) backend.health = addHealthService(server);
  backend.health?.setStatus(service, ServingStatus.SERVING);
  const address = await server.listen("127.0.0.1:0");
  assert.ok("port" in address);
  backend.port = address.port;
  cleanup.push(async () => {
    server.forceShutdown();
    await server.shutdown({ graceMs: 0 });
  });
  return backend;
}

function channelTo(backends: Backend[]) {
  const channel = createChannel(`ipv4:${backends.map((b) => `127.0.0.1:${b.port}`).join(",")}`, undefined, {
    serviceConfig: { loadBalancingConfig: [{ round_robin: {} }], healthCheckConfig: { serviceName: service } },
  });
  cleanup.push(() => channel.close());
  return createClient(Echo, channel);
}

async function spread(client: ReturnType<typeof channelTo>, backends: Backend[], n: number): Promise<number[]> {
  const before = backends.map((b) => b.calls);
  for (let i = 0; i < n; i++) await client.unary({ message: `call ${i}` }, { timeoutMs: 5_000 });
  return backends.map((b, i) => b.calls - before[i]!);
}

/** Polls until `check` holds (status changes reach the client through its Watch stream). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const until = Date.now() + 10_000;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(50);
  }
  assert.fail(`timed out waiting for ${what}`);
}

test("a backend that reports NOT_SERVING gets no calls until it serves again", async () => {
  const backends = [await startBackend(true), await startBackend(true), await startBackend(true)];
  const client = channelTo(backends);
  assert.ok((await spread(client, backends, 30)).every((n) => n > 0), "all three serve at first");

  backends[1]!.health!.setStatus(service, ServingStatus.NOT_SERVING);
  await eventually(async () => (await spread(client, backends, 10))[1] === 0, "the NOT_SERVING backend to be left out");
  const whileDown = await spread(client, backends, 30);
  assert.equal(whileDown[1], 0, `calls per backend while one is NOT_SERVING: ${whileDown}`);
  assert.equal(whileDown[0]! + whileDown[2]!, 30);

  backends[1]!.health!.setStatus(service, ServingStatus.SERVING);
  await eventually(async () => (await spread(client, backends, 10))[1]! > 0, "the backend to get calls again");
});

test("a backend without the health service (UNIMPLEMENTED) counts as healthy", async () => {
  const backends = [await startBackend(false), await startBackend(true)];
  const client = channelTo(backends);
  await eventually(async () => (await spread(client, backends, 10)).every((n) => n > 0), "both backends to get calls");
});

test("with every backend NOT_SERVING, calls fail fast with UNAVAILABLE", async () => {
  const backends = [await startBackend(true)];
  backends[0]!.health!.setStatus(service, ServingStatus.NOT_SERVING);
  const client = channelTo(backends);
  await assert.rejects(client.unary({ message: "x" }, { timeoutMs: 5_000 }), (err: Error & { code?: number }) => err.code === 14);
  assert.equal(backends[0]!.calls, 0);
});
