/**
 * A grpc.testing.TestService server written with @grpc/grpc-js, the independent peer
 * for the interop runner: `node --import tsx test/interop/grpcjs-server.ts --port=P
 * [--use_tls] [--tls_cert_file=F --tls_key_file=F]` (the interop server flags). A thin
 * harness: it behaves as the interop descriptions require wherever grpc-js lets it
 * (grpcjs-limits.ts lists where it cannot). SIGTERM or SIGINT stop it.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { parseFlagsOrExit } from "../../interop/flags.js";
import { listeningLine, serverFlagSpec, serverKeyPair } from "../../interop/server-flags.js";
import { echoInitialKey, echoTrailingKey } from "../../interop/test-service.js";
import {
  grpc,
  jsTestServiceDefinition,
  type JsEchoStatus,
  type JsPayload,
  type JsStreamingOutputCallRequest,
  type JsStreamingOutputCallResponse,
  type JsTestServiceImpl,
} from "./grpcjs-testing.js";

const flags = parseFlagsOrExit(serverFlagSpec, process.argv.slice(2), "node --import tsx test/interop/grpcjs-server.ts");

/** The call's request metadata and a way to send response headers: every grpc-js server call has both. */
interface JsServerCall {
  readonly metadata: grpc.Metadata;
  sendMetadata(metadata: grpc.Metadata): void;
}

/** Echo Metadata, initial half: x-grpc-test-echo-initial back in the response headers. */
function echoInitial(call: JsServerCall): void {
  const values = call.metadata.get(echoInitialKey);
  if (values.length === 0) return;
  const header = new grpc.Metadata();
  for (const value of values) header.add(echoInitialKey, value);
  call.sendMetadata(header);
}

/** Echo Metadata, trailing half: the trailers to end the call with. */
function echoTrailer(call: JsServerCall): grpc.Metadata {
  const trailer = new grpc.Metadata();
  for (const value of call.metadata.get(echoTrailingKey)) trailer.add(echoTrailingKey, value);
  return trailer;
}

/** Echo Status: the status to end the call with, or undefined to go on. */
function echoStatus(status: JsEchoStatus | null | undefined, trailer: grpc.Metadata): grpc.ServerErrorResponse | undefined {
  if (status === null || status === undefined || status.code === 0) return undefined;
  return Object.assign(new Error(status.message), { code: status.code, details: status.message, metadata: trailer });
}

class BadRequest extends Error {
  readonly code = grpc.status.INVALID_ARGUMENT;
  get details(): string {
    return this.message;
  }
}

function zeroPayload(type: number | undefined, size: number): JsPayload {
  if ((type ?? 0) !== 0) throw new BadRequest(`response_type ${String(type)} is not supported`);
  if (size < 0) throw new BadRequest(`a payload size must not be negative, got ${size}`);
  return { type: 0, body: Buffer.alloc(size) };
}

/** Writes one response per ResponseParameters, each after its interval_us; false once the call is gone. */
async function respond(
  call: grpc.ServerWritableStream<JsStreamingOutputCallRequest, JsStreamingOutputCallResponse> | grpc.ServerDuplexStream<JsStreamingOutputCallRequest, JsStreamingOutputCallResponse>,
  request: JsStreamingOutputCallRequest,
): Promise<boolean> {
  for (const params of request.response_parameters ?? []) {
    if ((params.interval_us ?? 0) > 0) await sleep((params.interval_us ?? 0) / 1000);
    if (call.cancelled || call.destroyed) return false;
    call.write({ payload: zeroPayload(request.response_type, params.size) });
  }
  return true;
}

function toServerError(err: unknown): grpc.ServerErrorResponse {
  if (err instanceof BadRequest) return err;
  return Object.assign(new Error(String(err)), { code: grpc.status.UNKNOWN });
}

const impl: JsTestServiceImpl = {
  emptyCall(call, callback) {
    echoInitial(call);
    callback(null, {}, echoTrailer(call));
  },

  unaryCall(call, callback) {
    echoInitial(call);
    const trailer = echoTrailer(call);
    const request = call.request;
    const status = echoStatus(request.response_status, trailer);
    if (status !== undefined) return callback(status);
    // expect_compressed and response_compressed cannot be honoured by grpc-js (grpcjs-limits.ts).
    try {
      callback(null, { payload: zeroPayload(request.response_type, request.response_size ?? 0) }, trailer);
    } catch (err) {
      callback(toServerError(err));
    }
  },

  cacheableUnaryCall(call, callback) {
    echoInitial(call);
    callback(null, { payload: { type: 0, body: Buffer.from(String(process.hrtime.bigint())) } }, echoTrailer(call));
  },

  streamingOutputCall(call) {
    echoInitial(call);
    const trailer = echoTrailer(call);
    const status = echoStatus(call.request.response_status, trailer);
    if (status !== undefined) {
      call.emit("error", status);
      return;
    }
    respond(call, call.request).then(
      (open) => open && call.end(trailer),
      (err: unknown) => call.emit("error", toServerError(err)),
    );
  },

  streamingInputCall(call, callback) {
    echoInitial(call);
    const trailer = echoTrailer(call);
    let aggregated = 0;
    // expect_compressed cannot be checked by grpc-js (grpcjs-limits.ts).
    call.on("data", (request: { payload: JsPayload | null }) => {
      aggregated += request.payload?.body.length ?? 0;
    });
    call.on("end", () => callback(null, { aggregated_payload_size: aggregated }, trailer));
  },

  fullDuplexCall(call) {
    echoInitial(call);
    const trailer = echoTrailer(call);
    // Requests are answered one after another, in order, however long their intervals.
    let queue = Promise.resolve(true);
    call.on("data", (request: JsStreamingOutputCallRequest) => {
      queue = queue.then((open) => {
        if (!open) return false;
        const status = echoStatus(request.response_status, trailer);
        if (status !== undefined) {
          call.emit("error", status);
          return false;
        }
        return respond(call, request).catch((err: unknown) => {
          call.emit("error", toServerError(err));
          return false;
        });
      });
    });
    call.on("end", () => {
      void queue.then((open) => open && call.end(trailer));
    });
  },

  halfDuplexCall(call) {
    echoInitial(call);
    const trailer = echoTrailer(call);
    const requests: JsStreamingOutputCallRequest[] = [];
    call.on("data", (request: JsStreamingOutputCallRequest) => requests.push(request));
    call.on("end", () => {
      void (async () => {
        for (const request of requests) {
          const status = echoStatus(request.response_status, trailer);
          if (status !== undefined) return call.emit("error", status);
          if (!(await respond(call, request))) return;
        }
        call.end(trailer);
      })().catch((err: unknown) => call.emit("error", toServerError(err)));
    });
  },
};

const server = new grpc.Server();
server.addService(jsTestServiceDefinition, impl);
let credentials = grpc.ServerCredentials.createInsecure();
if (flags.use_tls) {
  const { cert, key } = serverKeyPair(flags);
  credentials = grpc.ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
}
server.bindAsync(`0.0.0.0:${flags.port}`, credentials, (err, port) => {
  if (err !== null) {
    console.error(`cannot listen on port ${flags.port}: ${err.message}`);
    process.exit(1);
  }
  console.log(listeningLine("grpc-js", port, flags.use_tls));
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  const force = setTimeout(() => server.forceShutdown(), 1000);
  server.tryShutdown(() => {
    clearTimeout(force);
    process.exit(0);
  });
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
