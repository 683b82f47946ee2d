/**
 * Failure the gRPC way, end to end: every failed call rejects with one GrpcError
 * carrying code, message, response metadata and decoded rich details, whether the
 * handler threw it, the server could not route the call, or nobody was listening.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { after, before, describe, test } from "node:test";
import { create, createFileRegistry, type DescMethod } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, file_google_protobuf_empty } from "@bufbuild/protobuf/wkt";
import { Code, GrpcError, Metadata, createChannel, createClient, createMethodCaller, credentials, type Channel, type Client, type ServiceImpl } from "../src/index.js";
import { BadRequestSchema, ErrorInfoSchema, QuotaFailureSchema, RetryInfoSchema } from "../src/gen/google/rpc/error_details_pb.js";
import { Echo } from "./gen/echo_pb.js";
import { echoService, startServer } from "./helpers/server.js";

/** A message that needs percent-encoding in grpc-message: non-ASCII, "%", a newline. */
const awkwardMessage = "naïve 100% sure ✓\nsecond line";
const traceBytes = new Uint8Array([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]);

/** Throws whatever `req.message` names; other requests behave as the plain Echo service. */
const failingEcho: ServiceImpl<typeof Echo> = {
  unary(req, ctx) {
    switch (req.message) {
      case "rich":
        throw new GrpcError(Code.INVALID_ARGUMENT, "the request has 2 invalid fields", {
          metadata: new Metadata({ "x-request-id": "req-42", "x-trace-bin": traceBytes, "x-hint": ["one", "two"] }),
          details: [
            {
              desc: BadRequestSchema,
              value: {
                fieldViolations: [
                  { field: "message", description: "must not be empty" },
                  { field: "count", description: "must be positive" },
                ],
              },
            },
            { desc: ErrorInfoSchema, value: { reason: "EMPTY_MESSAGE", domain: "echo.grpcts.test", metadata: { limit: "1" } } },
            { desc: RetryInfoSchema, value: { retryDelay: { seconds: 2n, nanos: 500_000_000 } } },
          ],
        });
      case "throw-error":
        throw new Error("secret: password=hunter2");
      case "throw-string":
        throw "a thrown string";
      case "reject-type-error":
        return Promise.reject(new TypeError("cannot read properties of undefined (reading 'x')"));
      case "trailer-then-fail":
        ctx.responseHeader.set("x-header", "early");
        ctx.responseTrailer.set("x-trailer", "set by the handler");
        ctx.responseTrailer.append("x-trailer", "twice");
        ctx.responseTrailer.set("x-trailer-bin", traceBytes);
        throw new GrpcError(Code.PERMISSION_DENIED, "not yours");
      default:
        return echoService.unary(req, ctx);
    }
  },
  async *serverStream(req, ctx) {
    if (req.failCode !== 0) return yield* echoService.serverStream(req, ctx);
    yield { message: "first", index: 0 };
    yield { message: "second", index: 1 };
    ctx.responseTrailer.set("x-after-messages", "yes");
    if (req.message === "throw-error") throw new Error("stream broke at index 2");
    throw new GrpcError(Code.RESOURCE_EXHAUSTED, awkwardMessage);
  },
  clientStream: echoService.clientStream,
  bidi: echoService.bidi,
};

/** A port nobody listens on: bound by the OS, then released. */
async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === "object");
  return address.port;
}

/**
 * A service known only from a descriptor built here, never from a .proto the server
 * loaded: `package grpcts.test; service <name> { rpc <method>(...) returns (...); }`.
 */
function runtimeUnaryMethod(serviceName: string, methodName: string): DescMethod & { methodKind: "unary" } {
  const registry = createFileRegistry(
    create(FileDescriptorProtoSchema, {
      name: `runtime_${serviceName.toLowerCase()}.proto`,
      package: "grpcts.test",
      syntax: "proto3",
      dependency: ["google/protobuf/empty.proto"],
      service: [{ name: serviceName, method: [{ name: methodName, inputType: ".google.protobuf.Empty", outputType: ".google.protobuf.Empty" }] }],
    }),
    (name) => (name === file_google_protobuf_empty.proto.name ? file_google_protobuf_empty : undefined),
  );
  const method = registry.getService(`grpcts.test.${serviceName}`)?.methods[0];
  assert.ok(method !== undefined && isUnary(method));
  return method;
}

/** Narrows a runtime descriptor, as code that knows methods only at run time must. */
function isUnary(method: DescMethod): method is DescMethod & { methodKind: "unary" } {
  return method.methodKind === "unary";
}

async function rejection(promise: Promise<unknown>): Promise<GrpcError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    return err;
  }
  assert.fail("the call succeeded");
}

async function streamRejection(stream: AsyncIterable<unknown>, received: unknown[] = []): Promise<GrpcError> {
  return rejection((async () => {
    for await (const message of stream) received.push(message);
  })());
}

describe("errors from handlers", () => {
  const handlerErrors: unknown[] = [];
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;
  let client: Client<typeof Echo>;

  before(async () => {
    env = await startServer((s) => s.add(Echo, failingEcho), { onHandlerError: (err) => handlerErrors.push(err) });
    channel = createChannel(env.target, credentials.insecure());
    client = createClient(Echo, channel);
  });
  after(async () => {
    channel.close();
    await env.close();
  });

  test("a handler's GrpcError reaches the client with its code, message, metadata and rich details", async () => {
    const err = await rejection(client.unary({ message: "rich" }));
    assert.equal(err.name, "GrpcError");
    assert.equal(err.code, Code.INVALID_ARGUMENT);
    assert.equal(err.rawMessage, "the request has 2 invalid fields");
    assert.ok(err.message.includes("the request has 2 invalid fields"));

    assert.equal(err.metadata.getString("x-request-id"), "req-42");
    assert.deepEqual([...err.metadata.getBinary("x-trace-bin")!], [...traceBytes]);
    assert.deepEqual(err.metadata.getAll("x-hint"), ["one", "two"]);
    for (const reserved of ["grpc-status", "grpc-message", "grpc-status-details-bin", "content-type"]) {
      assert.equal(err.metadata.has(reserved), false, `${reserved} is not application metadata`);
    }

    assert.equal(err.details.length, 3);
    const [badRequest] = err.findDetails(BadRequestSchema);
    assert.deepEqual(
      badRequest?.fieldViolations.map((v) => [v.field, v.description]),
      [["message", "must not be empty"], ["count", "must be positive"]],
    );
    const [info] = err.findDetails(ErrorInfoSchema);
    assert.equal(info?.reason, "EMPTY_MESSAGE");
    assert.equal(info?.domain, "echo.grpcts.test");
    assert.deepEqual(info?.metadata, { limit: "1" });
    const [retry] = err.findDetails(RetryInfoSchema);
    assert.equal(retry?.retryDelay?.seconds, 2n);
    assert.equal(retry?.retryDelay?.nanos, 500_000_000);
    assert.deepEqual(err.findDetails(QuotaFailureSchema), []);
  });

  const codes = Object.values(Code).filter((c): c is Code => typeof c === "number" && c !== Code.OK);
  for (const code of codes) {
    test(`a handler throwing ${Code[code]} fails the unary call with exactly that code and message`, async () => {
      const err = await rejection(client.unary({ failCode: code, failMessage: `${Code[code]}: ${awkwardMessage}` }));
      assert.equal(err.code, code);
      assert.equal(err.rawMessage, `${Code[code]}: ${awkwardMessage}`);
    });
  }

  test("a handler's GrpcError reaches the client of every call type", async () => {
    const fail = { failCode: Code.FAILED_PRECONDITION, failMessage: awkwardMessage };
    const errors = [
      await rejection(client.unary(fail)),
      await streamRejection(client.serverStream({ count: 1, ...fail })),
      await rejection(client.clientStream([{ message: "ok" }, fail])),
      await streamRejection(client.bidi([fail])),
    ];
    for (const err of errors) {
      assert.equal(err.code, Code.FAILED_PRECONDITION);
      assert.equal(err.rawMessage, awkwardMessage);
    }
  });

  test("an error after streamed messages arrives after them, with the trailers set by the handler", async () => {
    const received: unknown[] = [];
    const err = await streamRejection(client.serverStream({}), received);
    assert.equal(received.length, 2);
    assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
    assert.equal(err.rawMessage, awkwardMessage);
    assert.equal(err.metadata.getString("x-after-messages"), "yes");
  });

  test("trailers set on ctx.responseTrailer reach error.metadata and onTrailer when the handler fails", async () => {
    let onTrailer: Metadata | undefined;
    const err = await rejection(client.unary({ message: "trailer-then-fail" }, { onTrailer: (md) => (onTrailer = md) }));
    assert.equal(err.code, Code.PERMISSION_DENIED);
    assert.deepEqual(err.metadata.getAll("x-trailer"), ["set by the handler", "twice"]);
    assert.deepEqual([...err.metadata.getBinary("x-trailer-bin")!], [...traceBytes]);
    assert.deepEqual(onTrailer?.getAll("x-trailer"), ["set by the handler", "twice"]);
  });

  const foreignThrows = [
    ["an Error", "throw-error", "secret: password=hunter2"],
    ["a string", "throw-string", "a thrown string"],
    ["a rejected TypeError", "reject-type-error", "cannot read properties"],
  ] as const;
  for (const [what, message, secret] of foreignThrows) {
    test(`a handler throwing ${what} fails with UNKNOWN and leaks neither its message nor a stack trace`, async () => {
      handlerErrors.length = 0;
      const err = await rejection(client.unary({ message }));
      assert.equal(err.code, Code.UNKNOWN);
      assert.ok(err.rawMessage.length > 0, "the client gets a generic message");
      assert.equal(err.rawMessage.includes(secret), false);
      assert.equal(err.rawMessage.includes("at "), false, "no stack frames");
      assert.equal(err.rawMessage.includes(".ts:"), false, "no source locations");
      assert.equal(err.cause, undefined, "the cause stays on the server");
      assert.equal(handlerErrors.length, 1, "onHandlerError sees the original error");
      const original = handlerErrors[0];
      assert.ok((original instanceof Error ? original.message : String(original)).includes(secret));
    });
  }

  test("a streaming handler throwing an Error fails with UNKNOWN after the messages it sent", async () => {
    const received: unknown[] = [];
    const err = await streamRejection(client.serverStream({ message: "throw-error" }), received);
    assert.equal(received.length, 2);
    assert.equal(err.code, Code.UNKNOWN);
    assert.equal(err.rawMessage.includes("stream broke"), false);
    assert.equal(err.rawMessage.includes("at "), false);
  });
});

describe("errors the server answers without a handler", () => {
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;

  before(async () => {
    // Echo without its bidi method.
    env = await startServer((s) => s.add(Echo, { unary: echoService.unary, serverStream: echoService.serverStream, clientStream: echoService.clientStream }));
    channel = createChannel(env.target, credentials.insecure());
  });
  after(async () => {
    channel.close();
    await env.close();
  });

  test("calling a method the served service does not have fails with UNIMPLEMENTED", async () => {
    const shout = createMethodCaller(runtimeUnaryMethod("Echo", "Shout"), channel);
    const err = await rejection(shout({}));
    assert.equal(err.code, Code.UNIMPLEMENTED);
    assert.match(err.rawMessage, /grpcts\.test\.Echo\/Shout/);
  });

  test("calling a service the server does not serve fails with UNIMPLEMENTED", async () => {
    const err = await rejection(createMethodCaller(runtimeUnaryMethod("Unserved", "Unary"), channel)({}));
    assert.equal(err.code, Code.UNIMPLEMENTED);
    assert.match(err.rawMessage, /grpcts\.test\.Unserved\/Unary/);
  });

  test("a method left out of the implementation fails with UNIMPLEMENTED for every caller", async () => {
    const client = createClient(Echo, channel);
    const err = await streamRejection(client.bidi([{ message: "hi" }]));
    assert.equal(err.code, Code.UNIMPLEMENTED);
    assert.equal((await client.unary({ message: "still served" })).message, "still served");
  });
});

describe("errors without a server", () => {
  test("a connection refused fails unary and streaming calls with UNAVAILABLE", async () => {
    const port = await unusedPort();
    const channel = createChannel(`127.0.0.1:${port}`, credentials.insecure());
    try {
      const client = createClient(Echo, channel);
      const unary = await rejection(client.unary({ message: "anyone?" }, { timeoutMs: 10_000 }));
      assert.equal(unary.code, Code.UNAVAILABLE);
      const stream = await streamRejection(client.serverStream({ count: 1 }, { timeoutMs: 10_000 }));
      assert.equal(stream.code, Code.UNAVAILABLE);
    } finally {
      channel.close();
    }
  });

  test("a call on a closed channel fails with UNAVAILABLE", async () => {
    const channel = createChannel("127.0.0.1:1", credentials.insecure());
    channel.close();
    const err = await rejection(createClient(Echo, channel).unary({}));
    assert.equal(err.code, Code.UNAVAILABLE);
  });
});
