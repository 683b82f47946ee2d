/**
 * The bench service for @grpc/grpc-js, loaded the way its users load a .proto:
 * @grpc/proto-loader (protobufjs underneath), bytes as Buffer, 64-bit ints as numbers.
 */
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

/** bench/proto/bench.proto, also from tsc's output in bench/.build/bench/lib (the .proto is not copied there). */
export const benchProtoPath = fileURLToPath(new URL("../proto/bench.proto", import.meta.url)).replace(/([\\/])\.build\1bench\1/, "$1");

export interface PayloadObject { body: Buffer }
export interface StreamRequestObject { count: number; size: number }
export interface SummaryObject { count: number; bytes: number }

export interface GrpcJsBench {
  service: grpc.ServiceDefinition;
  Client: grpc.ServiceClientConstructor;
}

export function loadGrpcJsBench(): GrpcJsBench {
  const definition = protoLoader.loadSync(benchProtoPath, { longs: Number, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition);
  const pkg = (loaded.grpcts as grpc.GrpcObject | undefined)?.bench as grpc.GrpcObject | undefined;
  const Client = pkg?.Bench;
  if (typeof Client !== "function" || !("service" in Client)) throw new Error("grpcts.bench.Bench not found in bench.proto");
  return { service: Client.service, Client };
}

/** The methods a proto-loader client of the bench service has at run time. */
export interface GrpcJsBenchClient {
  unary(request: PayloadObject, callback: (error: grpc.ServiceError | null, response?: PayloadObject) => void): grpc.ClientUnaryCall;
  serverStream(request: StreamRequestObject): grpc.ClientReadableStream<PayloadObject>;
  clientStream(callback: (error: grpc.ServiceError | null, response?: SummaryObject) => void): grpc.ClientWritableStream<PayloadObject>;
  bidi(): grpc.ClientDuplexStream<PayloadObject, PayloadObject>;
  close(): void;
}

/** A grpc-js client of the bench service at `address` (h2c). */
export function createGrpcJsBenchClient(bench: GrpcJsBench, address: string): GrpcJsBenchClient {
  // proto-loader clients are typed `Function` per method; this is their shape for bench.proto.
  return new bench.Client(address, grpc.credentials.createInsecure()) as unknown as GrpcJsBenchClient;
}
