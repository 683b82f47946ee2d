/**
 * The Route Guide server (`npm start`): all interfaces, port 50051 unless PORT says
 * otherwise (PORT=0 picks a free one). SIGTERM and SIGINT shut it down gracefully.
 */
import { Server, ServingStatus, addHealthService, addReflectionService, type ServerInterceptor } from "../../src/index.js";
import { RouteGuide } from "./gen/route_guide_pb.js";
import { loadFeatures } from "./features.js";
import { createRouteGuideService } from "./service.js";

const port = process.env.PORT === undefined || process.env.PORT === "" ? 50051 : Number(process.env.PORT);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a port number, got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

// Every response says which server answered (x-served-by: its listening address), so a
// client balancing over several servers can count them.
let listeningOn = "";
const servedBy: ServerInterceptor = (next) => (req) => {
  req.ctx.responseHeader.set("x-served-by", listeningOn);
  return next(req);
};
const server = new Server({ interceptors: [servedBy] });
server.add(RouteGuide, createRouteGuideService(loadFeatures()));
// Health (for probes and load balancers) and reflection (for grpcurl and the like), on by default.
const health = addHealthService(server);
health.setStatus(RouteGuide.typeName, ServingStatus.SERVING);
addReflectionService(server);
const address = await server.listen(`0.0.0.0:${port}`);
listeningOn = "host" in address ? `${address.host}:${address.port}` : address.path;
console.log(`listening on ${listeningOn}`);

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.error(`${signal}: shutting down, letting running calls finish (10 s at most)`);
  void server.shutdown({ graceMs: 10_000 }).then(() => process.exit(0));
};
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
