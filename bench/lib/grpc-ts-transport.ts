/**
 * Which HTTP/2 transport the grpc-ts server and client use in the bench, from
 * GRPC_TS_TRANSPORT (the orchestrator passes its --grpc-ts-transport through):
 * "h2" (grpc-ts's own HTTP/2, the library's default) or "node-http2" (node:http2).
 */
import type { ServerOptions } from "../../src/index.js";
import { defaultTransport } from "../../src/transport/default.js";

export type GrpcTsTransport = NonNullable<ServerOptions["transport"]>;
export const grpcTsTransports: readonly GrpcTsTransport[] = ["node-http2", "h2"];

export function grpcTsTransport(): GrpcTsTransport {
  const name = process.env.GRPC_TS_TRANSPORT ?? defaultTransport();
  const known = grpcTsTransports.find((t) => t === name);
  if (known === undefined) {
    throw new Error(`GRPC_TS_TRANSPORT=${name} is not a grpc-ts transport; known: ${grpcTsTransports.join(", ")}`);
  }
  return known;
}
