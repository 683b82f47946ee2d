/**
 * grpc.testing.TestService as the interop descriptions define the server ("Server"
 * section of grpc/grpc doc/interop-test-descriptions.md): payloads of zeros, echoed
 * metadata and status, compressed requests checked and responses compressed on request,
 * response intervals. UnimplementedCall is left out on purpose: it must answer
 * UNIMPLEMENTED. A fault can be switched on to prove that clients notice a wrong answer.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, type HandlerContext, type ServiceImpl } from "../src/index.js";
import {
  PayloadType,
  type BoolValue,
  type EchoStatus,
  type PayloadSchema,
  type ResponseParameters,
  type StreamingOutputCallRequest,
  type StreamingOutputCallResponseSchema,
} from "./gen/grpc/testing/messages_pb.js";
import type { TestService } from "./gen/grpc/testing/test_pb.js";

/**
 * Deliberate misbehaviour, for checking that interop clients fail when they should.
 * `short_unary_payload`: UnaryCall answers one byte less than response_size.
 */
export const serverFaults = ["short_unary_payload"] as const;
export type ServerFault = (typeof serverFaults)[number];

export function parseServerFault(value: string | undefined): ServerFault | undefined {
  if (value === undefined || value === "") return undefined;
  const fault = serverFaults.find((f) => f === value);
  if (fault === undefined) throw new TypeError(`unknown server fault ${JSON.stringify(value)}; known: ${serverFaults.join(", ")}`);
  return fault;
}

export const echoInitialKey = "x-grpc-test-echo-initial";
export const echoTrailingKey = "x-grpc-test-echo-trailing-bin";

/** The algorithm used for responses that ask to be compressed. */
const responseCompression = "gzip";

type TestServiceImpl = Omit<ServiceImpl<typeof TestService>, "unimplementedCall">;
type StreamingResponse = MessageInitShape<typeof StreamingOutputCallResponseSchema>;

export function createTestService(options: { fault?: ServerFault } = {}): TestServiceImpl {
  const { fault } = options;
  return {
    emptyCall(_request, ctx) {
      echoMetadata(ctx);
      return {};
    },

    unaryCall(request, ctx) {
      echoMetadata(ctx);
      checkCompressed(ctx, request, request.expectCompressed);
      failWithStatus(request.responseStatus);
      if (request.responseCompressed?.value === true) ctx.setResponseCompression(responseCompression);
      const size = fault === "short_unary_payload" ? Math.max(0, request.responseSize - 1) : request.responseSize;
      return { payload: zeroPayload(request.responseType, size) };
    },

    cacheableUnaryCall(_request, ctx) {
      echoMetadata(ctx);
      // A proxy may cache this response; the body differs for every request.
      ctx.responseHeader.set("cache-control", "max-age=60, public");
      const nanos = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
      return { payload: { type: PayloadType.COMPRESSABLE, body: new TextEncoder().encode(String(nanos)) } };
    },

    async *streamingOutputCall(request, ctx) {
      echoMetadata(ctx);
      failWithStatus(request.responseStatus);
      if (request.responseParameters.some((p) => p.compressed?.value === true)) ctx.setResponseCompression(responseCompression);
      yield* respond(request, ctx);
    },

    async streamingInputCall(requests, ctx) {
      echoMetadata(ctx);
      let aggregatedPayloadSize = 0;
      for await (const request of requests) {
        checkCompressed(ctx, request, request.expectCompressed);
        aggregatedPayloadSize += request.payload?.body.length ?? 0;
      }
      return { aggregatedPayloadSize };
    },

    async *fullDuplexCall(requests, ctx) {
      echoMetadata(ctx);
      // Which later requests ask for compression is unknown when the headers go out, so
      // the call offers gzip and each message's flag follows its ResponseParameters.
      ctx.setResponseCompression(responseCompression);
      for await (const request of requests) {
        failWithStatus(request.responseStatus);
        yield* respond(request, ctx);
      }
    },

    async *halfDuplexCall(requests, ctx) {
      echoMetadata(ctx);
      ctx.setResponseCompression(responseCompression);
      const buffered: StreamingOutputCallRequest[] = [];
      for await (const request of requests) {
        failWithStatus(request.responseStatus);
        buffered.push(request);
      }
      for (const request of buffered) yield* respond(request, ctx);
    },
  };
}

/** Echo Metadata: the initial key back in the response headers, the -bin key in the trailers. */
function echoMetadata(ctx: HandlerContext): void {
  for (const value of ctx.requestMetadata.getAll(echoInitialKey)) ctx.responseHeader.append(echoInitialKey, value);
  for (const value of ctx.requestMetadata.getAll(echoTrailingKey)) ctx.responseTrailer.append(echoTrailingKey, value);
}

/** Echo Status: a non-zero response_status ends the call with that code and message. */
function failWithStatus(status: EchoStatus | undefined): void {
  if (status !== undefined && status.code !== 0) throw new GrpcError(status.code as Code, status.message);
}

/** CompressedRequest: expect_compressed on a message that arrived uncompressed fails with INVALID_ARGUMENT. */
function checkCompressed(ctx: HandlerContext, request: object, expect: BoolValue | undefined): void {
  if (expect?.value === true && !ctx.wasCompressed(request)) {
    throw new GrpcError(Code.INVALID_ARGUMENT, "expect_compressed is set but the request message arrived uncompressed");
  }
}

function zeroPayload(type: PayloadType, size: number): MessageInitShape<typeof PayloadSchema> {
  if (type !== PayloadType.COMPRESSABLE) throw new GrpcError(Code.INVALID_ARGUMENT, `response_type ${type} is not supported`);
  if (size < 0) throw new GrpcError(Code.INVALID_ARGUMENT, `a payload size must not be negative, got ${size}`);
  return { type, body: new Uint8Array(size) };
}

/**
 * One response per ResponseParameters, each after sleeping its interval_us (measured
 * from the previous response), compressed when it asks to be and the call compresses.
 */
async function* respond(request: StreamingOutputCallRequest, ctx: HandlerContext): AsyncGenerator<StreamingResponse> {
  for (const params of request.responseParameters) {
    await pause(params, ctx.signal);
    ctx.compressNextMessage = params.compressed?.value === true;
    yield { payload: zeroPayload(request.responseType, params.size) };
  }
}

async function pause(params: ResponseParameters, signal: AbortSignal): Promise<void> {
  if (params.intervalUs > 0) await sleep(params.intervalUs / 1000, undefined, { signal });
}
