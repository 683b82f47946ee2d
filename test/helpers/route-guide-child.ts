/**
 * The Route Guide service in a child process for tests that freeze or kill their
 * server (SIGSTOP, SIGKILL): prints `listening on <host>:<port>` like `npm start`, but
 * lets clients ping as often as they like, since those tests run fast keepalive clients
 * (the real server enforces gRPC's 5-minute minimum ping interval).
 */
import { Server } from "../../src/index.js";
import { RouteGuide } from "../../examples/route-guide/gen/route_guide_pb.js";
import { loadFeatures } from "../../examples/route-guide/features.js";
import { createRouteGuideService } from "../../examples/route-guide/service.js";

const server = new Server({ keepaliveMinPingIntervalMs: 0, keepalivePermitWithoutCalls: true });
server.add(RouteGuide, createRouteGuideService(loadFeatures()));
const address = await server.listen("127.0.0.1:0");
console.log(`listening on ${"port" in address ? `127.0.0.1:${address.port}` : address.path}`);
