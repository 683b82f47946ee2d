/**
 * @grpc/grpc-js as the independent peer: test/proto/echo.proto loaded with
 * @grpc/proto-loader (camelCase fields, bytes as Buffer, defaults filled in), a server
 * on 127.0.0.1 with a free port, a client, and promise wrappers for grpc-js calls.
 * grpc-js is untyped over loaded protos; the casts to the Js* shapes live only here.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";

export { grpc };

const echoProtoPath = fileURLToPath(new URL("../proto/echo.proto", import.meta.url));

const packageDefinition = protoLoader.loadSync(echoProtoPath, { keepCase: false, longs: Number, enums: Number, defaults: true });
const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as { grpcts: { test: { Echo: grpc.ServiceClientConstructor } } };
const EchoClientConstructor = loaded.grpcts.test.Echo;

/** grpcts.test.Echo as grpc-js serves it. */
export const jsEchoService: grpc.ServiceDefinition = EchoClientConstructor.service;

/** EchoRequest as grpc-js sees it; received messages have every field (defaults: true). */
export interface JsEchoRequest {
  message?: string;
  payload?: Buffer;
  count?: number;
  delayMs?: number;
  failCode?: number;
  failMessage?: string;
}

export interface JsEchoResponse {
  message: string;
  payload: Buffer;
  index: number;
}

export interface JsEchoClient extends grpc.Client {
  unary(request: JsEchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<JsEchoResponse>): grpc.ClientUnaryCall;
  serverStream(request: JsEchoRequest, metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientReadableStream<JsEchoResponse>;
  clientStream(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<JsEchoResponse>): grpc.ClientWritableStream<JsEchoRequest>;
  bidi(metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientDuplexStream<JsEchoRequest, JsEchoResponse>;
}

/** The handlers a grpc-js Echo server takes. */
export interface JsEchoImpl {
  unary: grpc.handleUnaryCall<Required<JsEchoRequest>, JsEchoResponse>;
  serverStream: grpc.handleServerStreamingCall<Required<JsEchoRequest>, JsEchoResponse>;
  clientStream: grpc.handleClientStreamingCall<Required<JsEchoRequest>, JsEchoResponse>;
  bidi: grpc.handleBidiStreamingCall<Required<JsEchoRequest>, JsEchoResponse>;
}

export interface JsServer {
  readonly server: grpc.Server;
  readonly port: number;
  /** "127.0.0.1:<port>" */
  readonly target: string;
  close(): void;
}

/** A grpc-js server with the Echo service on 127.0.0.1:0. */
export async function startJsServer(impl: JsEchoImpl, options?: grpc.ServerOptions): Promise<JsServer> {
  const server = new grpc.Server(options);
  server.addService(jsEchoService, impl as unknown as grpc.UntypedServiceImplementation);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => (err === null ? resolve(p) : reject(err))),
  );
  return { server, port, target: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
}

/** A grpc-js Echo client over cleartext HTTP/2; close it with `client.close()`. */
export function createJsClient(target: string, options?: grpc.ChannelOptions): JsEchoClient {
  return new EchoClientConstructor(target, grpc.credentials.createInsecure(), options) as unknown as JsEchoClient;
}

/** What a finished grpc-js client call saw. */
export interface JsCallResult<T> {
  readonly response: T;
  readonly header: grpc.Metadata | undefined;
  readonly status: grpc.StatusObject;
}

/** Resolves once both the callback and the status event have fired (the status carries the trailers). */
function settleUnary<T>(
  start: (callback: grpc.requestCallback<T>) => grpc.ClientUnaryCall | grpc.ClientWritableStream<JsEchoRequest>,
): { call: grpc.ClientUnaryCall | grpc.ClientWritableStream<JsEchoRequest>; result: Promise<JsCallResult<T>> } {
  let header: grpc.Metadata | undefined;
  let call: grpc.ClientUnaryCall | grpc.ClientWritableStream<JsEchoRequest> | undefined;
  const result = new Promise<JsCallResult<T>>((resolve, reject) => {
    let outcome: { error: grpc.ServiceError | null; response: T | undefined } | undefined;
    let status: grpc.StatusObject | undefined;
    const finish = () => {
      if (outcome === undefined || status === undefined) return;
      if (outcome.error !== null) reject(outcome.error);
      else resolve({ response: outcome.response as T, header, status });
    };
    call = start((error, response) => {
      outcome = { error, response };
      finish();
    });
    call.on("metadata", (md: grpc.Metadata) => (header = md));
    call.on("status", (s: grpc.StatusObject) => {
      status = s;
      finish();
    });
  });
  return { call: call!, result };
}

export function jsUnary(client: JsEchoClient, request: JsEchoRequest, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}) {
  return settleUnary<JsEchoResponse>((cb) => client.unary(request, metadata, options, cb));
}

export function jsClientStream(client: JsEchoClient, metadata = new grpc.Metadata(), options: grpc.CallOptions = {}) {
  const { call, result } = settleUnary<JsEchoResponse>((cb) => client.clientStream(metadata, options, cb));
  return { call: call as grpc.ClientWritableStream<JsEchoRequest>, result };
}

/** Reads a grpc-js response stream to its end; rejects with the ServiceError of a failed call. */
export function jsCollect(call: grpc.ClientReadableStream<JsEchoResponse> | grpc.ClientDuplexStream<JsEchoRequest, JsEchoResponse>): Promise<JsCallResult<JsEchoResponse[]>> {
  return new Promise((resolve, reject) => {
    const messages: JsEchoResponse[] = [];
    let header: grpc.Metadata | undefined;
    let error: grpc.ServiceError | undefined;
    let ended = false;
    let status: grpc.StatusObject | undefined;
    const finish = () => {
      if (status === undefined) return;
      if (status.code !== grpc.status.OK) {
        if (error !== undefined) reject(error);
      } else if (ended) {
        resolve({ response: messages, header, status });
      }
    };
    call.on("metadata", (md: grpc.Metadata) => (header = md));
    call.on("data", (m: JsEchoResponse) => messages.push(m));
    call.on("error", (e: grpc.ServiceError) => {
      error = e;
      finish();
    });
    call.on("end", () => {
      ended = true;
      finish();
    });
    call.on("status", (s: grpc.StatusObject) => {
      status = s;
      finish();
    });
  });
}
