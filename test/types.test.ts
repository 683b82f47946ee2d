/**
 * Compile-time type test: `npx tsc -p .` checks this file. Each `@ts-expect-error`
 * line must fail to compile; if a type loosens (a wrong request field, an unknown
 * method, a wrong handler shape is accepted), the directive is unused and tsc fails.
 * The other lines must compile. The functions are never called: at run time this file
 * only checks that it loads.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { create } from "@bufbuild/protobuf";
import {
  Code, GrpcError, Metadata, Server, createClient, createMethodCaller, type CallOptions, type Channel, type Client,
  type HandlerContext, type ServiceImpl,
} from "../src/index.js";
import { BadRequestSchema } from "../src/gen/google/rpc/error_details_pb.js";
import { Echo, EchoResponseSchema, type EchoRequest, type EchoResponse } from "./gen/echo_pb.js";

/** Positive lines: what users write must compile, with the types they expect. */
export async function clientCallsCompile(channel: Channel): Promise<void> {
  const client: Client<typeof Echo> = createClient(Echo, channel);

  const res: EchoResponse = await client.unary({ message: "hi", payload: new Uint8Array([1]), count: 1 });
  const message: string = res.message;
  const index: number = res.index;
  const payload: Uint8Array = res.payload;
  await client.unary({}); // every field is optional in an init object
  await client.unary({ message: "x" }, { timeoutMs: 100, signal: AbortSignal.timeout(100), metadata: { "x-a": "1", "x-b-bin": new Uint8Array() } });

  for await (const r of client.serverStream({ count: 2 })) {
    const i: number = r.index;
    void i;
  }

  await client.clientStream([{ message: "a" }, { message: "b" }]);
  await client.clientStream(new Set([{ message: "a" }]));
  await client.clientStream((async function* () {
    yield { message: "a" };
  })());
  await client.clientStream([create(Echo.method.unary.input, { message: "a message, not an init object" })]);

  for await (const r of client.bidi([{ message: "a" }])) {
    const s: string = r.message;
    void s;
  }

  const serverStream = createMethodCaller(Echo.method.serverStream, channel);
  for await (const r of serverStream({ count: 1 })) {
    const typed: EchoResponse = r;
    void typed;
  }
  void message, index, payload;
}

/** Positive lines: handlers of every shape the server accepts. */
export function serverImplementationsCompile(server: Server): void {
  server.add(Echo, {
    async unary(req: EchoRequest, ctx: HandlerContext) {
      const deadline: number | undefined = ctx.deadline;
      const signal: AbortSignal = ctx.signal;
      ctx.responseTrailer.set("x-seen", String(deadline ?? signal.aborted));
      return { message: req.message };
    },
    async *serverStream(req) {
      for (let i = 0; i < req.count; i++) yield { index: i };
    },
    async clientStream(requests) {
      let n = 0;
      for await (const r of requests) n += r.count;
      return create(EchoResponseSchema, { index: n });
    },
    async *bidi(requests) {
      for await (const r of requests) yield { message: r.message };
    },
  });
  // A partial implementation, and a synchronous unary handler.
  server.add(Echo, { unary: (req) => ({ message: req.message }) });
  server.addMethod(Echo.method.unary, async (req) => ({ message: req.message }));
  const echo: ServiceImpl<typeof Echo>["serverStream"] = async function* () {
    yield { message: "typed on its own" };
  };
  void echo;
}

/** Positive lines: a rich error as handlers build it, and as clients read it. */
export function richErrorsCompile(): string[] {
  const err = new GrpcError(Code.INVALID_ARGUMENT, "bad", {
    metadata: new Metadata({ "x-a": "1" }),
    details: [{ desc: BadRequestSchema, value: { fieldViolations: [{ field: "message", description: "empty" }] } }],
  });
  const code: Code = err.code;
  void code;
  return err.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations.map((v) => v.field));
}

/** Negative lines: each must fail to compile. */
export async function wrongClientCallsFail(channel: Channel, options: CallOptions): Promise<void> {
  const client = createClient(Echo, channel);

  // @ts-expect-error message is a string, not a number
  await client.unary({ message: 1 });
  // @ts-expect-error count is an int32 (number), not a string
  await client.unary({ count: "3" });
  // @ts-expect-error payload is bytes (Uint8Array), not a string
  await client.unary({ payload: "bytes" });
  // @ts-expect-error EchoRequest has no field "nope"
  await client.unary({ nope: true });
  // @ts-expect-error a response message is not a request
  await client.unary(create(EchoResponseSchema));
  // @ts-expect-error Echo has no method "reverse"
  await client.reverse({ message: "x" });
  // @ts-expect-error method names are the localName (unary), not the proto name (Unary)
  await client.Unary({ message: "x" });
  // @ts-expect-error a unary call takes one request, not an array
  await client.unary([{ message: "x" }]);
  // @ts-expect-error a client stream takes an iterable of requests, not one request
  await client.clientStream({ message: "x" });
  // @ts-expect-error the items of a client stream are requests
  await client.clientStream([{ message: 1 }]);
  // @ts-expect-error a bidi call takes an iterable of requests
  client.bidi({ message: "x" });

  const res = await client.unary({});
  // @ts-expect-error message is a string
  const n: number = res.message;
  // @ts-expect-error index is a number
  const s: string = res.index;
  // @ts-expect-error EchoResponse has no field "count"
  void res.count;

  // @ts-expect-error a unary call is a Promise, not an async iterable
  for await (const r of client.unary({})) void r;
  // @ts-expect-error a server stream is an async iterable, not a Promise of a response
  const streamed: EchoResponse = await client.serverStream({});
  for await (const r of client.serverStream({})) {
    // @ts-expect-error streamed responses are EchoResponses
    const wrong: boolean = r.message;
    void wrong;
  }
  // @ts-expect-error a client stream resolves to one response, not a stream
  for await (const r of client.clientStream([])) void r;

  // @ts-expect-error timeoutMs is a number of milliseconds
  await client.unary({}, { ...options, timeoutMs: "1s" });
  // @ts-expect-error there is no "timeout" option (units go in the name)
  await client.unary({}, { timeout: 100 });

  const unary = createMethodCaller(Echo.method.unary, channel);
  // @ts-expect-error createMethodCaller keeps the method's request type
  await unary({ message: 1 });
  void n, s, streamed;
}

/** Negative lines: handler shapes that do not match their method kind must fail. */
export function wrongHandlersFail(server: Server): void {
  // @ts-expect-error a unary handler must return an EchoResponse (message is a string)
  server.add(Echo, { unary: async () => ({ message: 42 }) });
  // @ts-expect-error a unary handler must not return a field EchoResponse lacks
  server.add(Echo, { unary: async () => ({ count: 1 }) });
  // @ts-expect-error a unary handler returns a response, not a string
  server.add(Echo, { unary: async () => "hello" });
  // @ts-expect-error a unary handler returns one response, not a stream of them
  server.add(Echo, { async *unary() { yield { message: "x" }; } });
  // @ts-expect-error a unary handler gets an EchoRequest, which has no field "missing"
  server.add(Echo, { unary: async (req) => ({ message: req.missing }) });

  // @ts-expect-error a server-streaming handler returns an AsyncIterable, not a Promise
  server.add(Echo, { serverStream: async () => ({ message: "x" }) });
  // @ts-expect-error a server-streaming handler returns an AsyncIterable, not an array
  server.add(Echo, { serverStream: () => [{ message: "x" }] });
  // @ts-expect-error the messages a server-streaming handler yields are EchoResponses
  server.add(Echo, { async *serverStream() { yield { index: "0" }; } });

  // @ts-expect-error a client-streaming handler gets an AsyncIterable of requests, not one request
  server.add(Echo, { clientStream: async (req: EchoRequest) => ({ message: req.message }) });
  // @ts-expect-error a client-streaming handler returns one response, not a stream
  server.add(Echo, { async *clientStream() { yield { message: "x" }; } });

  // @ts-expect-error a bidi handler returns an AsyncIterable, not a Promise
  server.add(Echo, { bidi: async () => ({ message: "x" }) });
  // @ts-expect-error a bidi handler gets an AsyncIterable of requests, not one request
  server.add(Echo, { async *bidi(req: EchoRequest) { yield { message: req.message }; } });

  // @ts-expect-error Echo has no method "reverse" to implement
  server.add(Echo, { reverse: async () => ({}) });
  // @ts-expect-error addMethod types the handler from a generated descriptor: unary, not streaming
  server.addMethod(Echo.method.unary, async function* () { yield { message: "x" }; });

  server.add(Echo, {
    unary(_req, ctx) {
      // @ts-expect-error ctx.deadline may be undefined (no deadline)
      const deadline: number = ctx.deadline;
      // @ts-expect-error -bin metadata values are bytes
      ctx.responseTrailer.set("x-bin", 1);
      void deadline;
      return {};
    },
  });
  // @ts-expect-error metadata values are strings or bytes
  new Metadata({ "x-a": 1 });
}

test("the compile-time checks of this file load (tsc enforces them)", () => {
  for (const fn of [clientCallsCompile, serverImplementationsCompile, richErrorsCompile, wrongClientCallsFail, wrongHandlersFail]) {
    assert.equal(typeof fn, "function");
  }
});
