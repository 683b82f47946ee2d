/**
 * Requests no conforming gRPC client sends, written by hand with a raw node:http2
 * client against the grpc-ts server: each gets the status the spec (or grpc-go, where
 * the spec is silent) gives it, and the same connection then still serves a normal call.
 */
import assert from "node:assert/strict";
import type { OutgoingHttpHeaders } from "node:http2";
import { after, before, test } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "../src/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "./gen/echo_pb.js";
import { connectRawClient, grpcFrame, grpcRequestHeaders, parseGrpcFrames, type RawClient, type RawRequestOptions } from "./helpers/raw-http2.js";
import { echoService, startServer, type TestServer } from "./helpers/server.js";

const unaryPath = "/grpcts.test.Echo/Unary";
const serverStreamPath = "/grpcts.test.Echo/ServerStream";
const fourMiB = 4 * 1024 * 1024;

function echoRequest(message: string): Uint8Array {
  return toBinary(EchoRequestSchema, create(EchoRequestSchema, { message }));
}

/** A frame header declaring `length` bytes, without the payload. */
function frameHeader(length: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(length, 1);
  return header;
}

let server: TestServer;
let client: RawClient;
before(async () => {
  server = await startServer((s) => s.add(Echo, echoService));
  client = await connectRawClient(server.port);
});
after(async () => {
  await client.close();
  await server.close();
});

/** A well-formed unary call on the raw client's connection must still succeed. */
async function assertConnectionStillServes(): Promise<void> {
  assert.equal(client.session.destroyed, false, "the connection was closed");
  const res = await client.request(grpcRequestHeaders(unaryPath), { body: [grpcFrame(echoRequest("still serving"))] });
  assert.equal(res.headers[":status"], 200);
  assert.equal(res.trailers?.["grpc-status"], "0");
  const frames = parseGrpcFrames(res.body);
  assert.equal(frames.length, 1);
  assert.equal(fromBinary(EchoResponseSchema, frames[0]!.payload).message, "still serving");
}

interface BadRequestCase {
  readonly name: string;
  readonly headers: OutgoingHttpHeaders;
  readonly options: RawRequestOptions;
  readonly httpStatus: number;
  readonly code: Code;
}

const withoutContentType = grpcRequestHeaders(unaryPath);
delete withoutContentType["content-type"];

const cases: BadRequestCase[] = [
  {
    name: "answers an unparseable request message with INTERNAL",
    headers: grpcRequestHeaders(unaryPath),
    // Field 1 (string) declares 5 bytes but only 1 follows.
    options: { body: [grpcFrame(Uint8Array.of(0x0a, 0x05, 0x61))] },
    httpStatus: 200,
    code: Code.INTERNAL,
  },
  {
    name: "answers a message declared 4 MiB + 1 long with RESOURCE_EXHAUSTED before its payload arrives",
    headers: grpcRequestHeaders(unaryPath),
    options: { body: [frameHeader(fourMiB + 1)], end: false },
    httpStatus: 200,
    code: Code.RESOURCE_EXHAUSTED,
  },
  ...["application/json", "text/plain", "application/grpcfoo"].map((contentType) => ({
    name: `answers content-type ${contentType} with HTTP 415 and INVALID_ARGUMENT`,
    headers: grpcRequestHeaders(unaryPath, { "content-type": contentType }),
    options: { body: [grpcFrame(echoRequest("x"))] },
    httpStatus: 415,
    code: Code.INVALID_ARGUMENT,
  })),
  {
    name: "answers a request without content-type with HTTP 415 and INVALID_ARGUMENT",
    headers: withoutContentType,
    options: { body: [grpcFrame(echoRequest("x"))] },
    httpStatus: 415,
    code: Code.INVALID_ARGUMENT,
  },
  ...["1x", "123456789S", "-1S", "", "S", "1.5S"].map((timeout) => ({
    name: `answers grpc-timeout ${JSON.stringify(timeout)} with HTTP 400 and INTERNAL`,
    headers: grpcRequestHeaders(unaryPath, { "grpc-timeout": timeout }),
    options: { body: [grpcFrame(echoRequest("x"))] },
    httpStatus: 400,
    code: Code.INTERNAL,
  })),
  {
    name: "answers a GET with HTTP 405",
    headers: grpcRequestHeaders(unaryPath, { ":method": "GET" }),
    options: {},
    httpStatus: 405,
    code: Code.INTERNAL,
  },
  {
    name: "answers an unknown method with UNIMPLEMENTED",
    headers: grpcRequestHeaders("/grpcts.test.Echo/NoSuchMethod"),
    options: { body: [grpcFrame(echoRequest("x"))] },
    httpStatus: 200,
    code: Code.UNIMPLEMENTED,
  },
  {
    name: "answers an unknown service with UNIMPLEMENTED",
    headers: grpcRequestHeaders("/no.such.Service/Unary"),
    options: { body: [grpcFrame(echoRequest("x"))] },
    httpStatus: 200,
    code: Code.UNIMPLEMENTED,
  },
  {
    name: "answers two request messages for a unary method with UNIMPLEMENTED",
    headers: grpcRequestHeaders(unaryPath),
    options: { body: [grpcFrame(echoRequest("one")), grpcFrame(echoRequest("two"))] },
    httpStatus: 200,
    code: Code.UNIMPLEMENTED,
  },
  {
    name: "answers zero request messages for a unary method with UNIMPLEMENTED",
    headers: grpcRequestHeaders(unaryPath),
    options: { body: [] },
    httpStatus: 200,
    code: Code.UNIMPLEMENTED,
  },
  {
    name: "answers two request messages for a server-streaming method with UNIMPLEMENTED",
    headers: grpcRequestHeaders(serverStreamPath),
    options: { body: [Buffer.concat([grpcFrame(echoRequest("one")), grpcFrame(echoRequest("two"))])] },
    httpStatus: 200,
    code: Code.UNIMPLEMENTED,
  },
  {
    name: "answers a request stream that ends inside a frame header with INTERNAL",
    headers: grpcRequestHeaders(unaryPath),
    options: { body: [Uint8Array.of(0, 0, 0)] },
    httpStatus: 200,
    code: Code.INTERNAL,
  },
  {
    name: "answers a request stream that ends inside a message with INTERNAL",
    headers: grpcRequestHeaders(unaryPath),
    options: { body: [grpcFrame(echoRequest("truncated")).subarray(0, 9)] },
    httpStatus: 200,
    code: Code.INTERNAL,
  },
];

for (const c of cases) {
  test(`${c.name}, and the connection still serves calls`, async () => {
    const res = await client.request(c.headers, c.options);
    assert.equal(res.headers[":status"], c.httpStatus);
    assert.equal(res.trailersOnly, true, "expected a trailers-only response");
    assert.equal(res.headers["grpc-status"], String(c.code), `grpc-message: ${String(res.headers["grpc-message"])}`);
    assert.equal(typeof res.headers["grpc-message"], "string");
    assert.equal(res.body.length, 0);
    await assertConnectionStillServes();
  });
}

