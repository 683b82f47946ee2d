import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { Code, GrpcError, ServingStatus, addHealthService, createChannel, createClient, type HealthRegistry } from "../src/index.js";
import { Health } from "../src/gen/grpc/health/v1/health_pb.js";
import { Echo } from "./gen/echo_pb.js";
import { echoService, startServer, type TestServer } from "./helpers/server.js";

let ts: TestServer;
let health: HealthRegistry;
const channels: { close(): void }[] = [];

before(async () => {
  ts = await startServer((server) => {
    server.add(Echo, echoService);
    health = addHealthService(server);
  });
});
after(async () => {
  for (const c of channels) c.close();
  await ts.close();
});

function client() {
  const channel = createChannel(ts.target);
  channels.push(channel);
  return createClient(Health, channel);
}

test("Check answers the overall status under the empty service name", async () => {
  const res = await client().check({ service: "" }, { timeoutMs: 5000 });
  assert.equal(res.status, ServingStatus.SERVING);
});

test("Check follows per-service status changes", async () => {
  health.setStatus("grpcts.test.Echo", ServingStatus.NOT_SERVING);
  assert.equal((await client().check({ service: "grpcts.test.Echo" })).status, ServingStatus.NOT_SERVING);
  health.setStatus("grpcts.test.Echo", ServingStatus.SERVING);
  assert.equal((await client().check({ service: "grpcts.test.Echo" })).status, ServingStatus.SERVING);
});

test("Check of an unknown service fails with NOT_FOUND", async () => {
  await assert.rejects(client().check({ service: "no.such.Service" }), (err: unknown) => err instanceof GrpcError && err.code === Code.NOT_FOUND);
});

test("Watch sends the current status, then every change, and SERVICE_UNKNOWN for unknown services without ending", async () => {
  const controller = new AbortController();
  const seen: ServingStatus[] = [];
  const stream = client().watch({ service: "later.Service" }, { signal: controller.signal });
  const done = (async () => {
    try {
      for await (const res of stream) {
        seen.push(res.status);
        if (seen.length === 1) health.setStatus("later.Service", ServingStatus.SERVING);
        if (seen.length === 2) health.setStatus("later.Service", ServingStatus.NOT_SERVING);
        if (seen.length === 3) controller.abort();
      }
    } catch (err) {
      assert.ok(err instanceof GrpcError && err.code === Code.CANCELLED, `ended with ${String(err)}`);
    }
  })();
  await done;
  assert.deepEqual(seen, [ServingStatus.SERVICE_UNKNOWN, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
});

test("List returns every known status", async () => {
  health.setStatus("listed.Service", ServingStatus.SERVING);
  const res = await client().list({});
  assert.equal(res.statuses["listed.Service"]?.status, ServingStatus.SERVING);
  assert.equal(res.statuses[""]?.status, ServingStatus.SERVING);
});

test("a @grpc/grpc-js health client checks and watches our server", async () => {
  const def = protoLoader.loadSync(new URL("../proto/grpc/health/v1/health.proto", import.meta.url).pathname, { enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  const jsClient = new pkg.grpc.health.v1.Health(ts.target, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(req: object, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
    watch(req: object): grpc.ClientReadableStream<{ status: string }>;
  };
  try {
    const status = await new Promise<string>((resolve, reject) =>
      jsClient.check({ service: "" }, (err, res) => (err ? reject(err) : resolve(res!.status))),
    );
    assert.equal(status, "SERVING");
    const missing = await new Promise<grpc.ServiceError>((resolve) => jsClient.check({ service: "nope" }, (err) => resolve(err!)));
    assert.equal(missing.code, grpc.status.NOT_FOUND);
    const call = jsClient.watch({ service: "js.Watched" });
    const first = await new Promise<string>((resolve) => call.once("data", (d: { status: string }) => resolve(d.status)));
    assert.equal(first, "SERVICE_UNKNOWN");
    const second = new Promise<string>((resolve) => call.once("data", (d: { status: string }) => resolve(d.status)));
    health.setStatus("js.Watched", ServingStatus.SERVING);
    assert.equal(await second, "SERVING");
    call.on("error", () => undefined);
    call.cancel();
  } finally {
    jsClient.close();
  }
});

test("graceful shutdown turns every status NOT_SERVING before calls are refused", async () => {
  let registry!: HealthRegistry;
  const own = await startServer((server) => {
    registry = addHealthService(server);
  });
  registry.setStatus("x.Y", ServingStatus.SERVING);
  const channel = createChannel(own.target);
  const seen: ServingStatus[] = [];
  const stream = createClient(Health, channel).watch({ service: "x.Y" });
  const reading = (async () => {
    try {
      for await (const res of stream) {
        seen.push(res.status);
        if (seen.length === 1) void own.server.shutdown({ graceMs: 200 });
      }
    } catch {
      // The watch is cancelled when the grace period ends.
    }
  })();
  await reading;
  channel.close();
  await own.close();
  assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
  assert.equal(registry.getStatus(""), ServingStatus.NOT_SERVING);
});
