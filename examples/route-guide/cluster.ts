/**
 * The Route Guide on every core (`npm run route-guide:cluster`): WORKERS processes
 * (default os.availableParallelism()) serve one port on HOST (default all interfaces),
 * 50051 unless PORT says otherwise (PORT=0 picks a free one). Prints
 * `listening on <host>:<port>` once all workers listen.
 * SIGTERM or SIGINT: graceful shutdown. SIGHUP: rolling restart of the workers.
 * GRPC_TS_TRANSPORT=node-http2 serves with node:http2 instead of grpc-ts's own HTTP/2.
 */
import { availableParallelism } from "node:os";
import { ServingStatus, addHealthService, addReflectionService, serveCluster, type ServerInterceptor } from "../../src/index.js";
import { RouteGuide } from "./gen/route_guide_pb.js";
import { loadFeatures } from "./features.js";
import { createRouteGuideService } from "./service.js";

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    console.error(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const host = process.env.HOST === undefined || process.env.HOST === "" ? "0.0.0.0" : process.env.HOST;
const port = intFromEnv("PORT", 50051, 0, 65535);
const workers = intFromEnv("WORKERS", availableParallelism(), 1, 1024);
const graceMs = 10_000;

// Every response names the worker process that answered it, so a client can watch
// connections move between workers (and a test can tell old workers from new ones).
const servedBy: ServerInterceptor = (next) => (req) => {
  req.ctx.responseHeader.set("x-worker-pid", String(process.pid));
  return next(req);
};

const cluster = await serveCluster({
  address: host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`,
  workers,
  graceMs,
  server: { interceptors: [servedBy] },
  setup(server) {
    server.add(RouteGuide, createRouteGuideService(loadFeatures()));
    // Health turns NOT_SERVING as soon as a worker starts to retire.
    addHealthService(server).setStatus(RouteGuide.typeName, ServingStatus.SERVING);
    addReflectionService(server);
  },
  onWorkerExit: (pid, code, signal) => console.error(`worker ${pid} exited unexpectedly (code ${code}, signal ${signal}); starting a new one`),
});

if (cluster.role === "primary") {
  const address = cluster.address;
  console.log(`listening on ${"host" in address ? `${address.host}:${address.port}` : address.path}`);
  console.error(`${workers} workers: ${cluster.workerPids().join(" ")} (primary ${process.pid})`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`${signal}: shutting down, letting running calls finish (${graceMs / 1000} s at most)`);
    void cluster.shutdown().then(() => process.exit(0));
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => {
    if (stopping) return;
    console.error("SIGHUP: rolling restart");
    cluster.rollingRestart().then(
      () => console.error(`rolling restart done; workers: ${cluster.workerPids().join(" ")}`),
      (err: unknown) => console.error(`rolling restart stopped: ${err instanceof Error ? err.message : String(err)}`),
    );
  });
}
