/**
 * Interceptors on both sides: composed in the order listed, able to read and change
 * metadata, to see every message of every call kind in both directions, and to stop
 * a call with a status before it is sent (client) or before the handler runs
 * (server). Then the two shipped examples: logging and bearer-token auth.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create, isMessage } from "@bufbuild/protobuf";
import {
  Code, GrpcError, Metadata, bearerAuthInterceptor, clientLoggingInterceptor, createChannel, createClient, credentials,
  serverLoggingInterceptor, type CallLogRecord, type Client, type ClientInterceptor, type ServerInterceptor, type ServiceImpl,
} from "../src/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "./gen/echo_pb.js";
import { echoService, startServer, type TestServer } from "./helpers/server.js";

/** The `message` field of an Echo request or response, whichever `value` is (also init objects). */
function text(value: unknown): string {
  if (isMessage(value, EchoRequestSchema) || isMessage(value, EchoResponseSchema)) return value.message;
  if (typeof value === "object" && value !== null && "message" in value && typeof value.message === "string") return value.message;
  throw new TypeError(`not an Echo message: ${String(value)}`);
}

/** Passes every message through, telling `see` about each. */
async function* tap<T>(messages: AsyncIterable<T>, see: (message: T) => void): AsyncIterable<T> {
  for await (const message of messages) {
    see(message);
    yield message;
  }
}

function assertGrpcError(code: Code, message?: RegExp): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${Code[code]}, got ${err.message}`);
    if (message !== undefined) assert.match(err.rawMessage, message);
    return true;
  };
}

async function collect<T>(messages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of messages) out.push(m);
  return out;
}

/** Echo with the default behaviour, counting the handler invocations. */
function countingEcho(): { impl: ServiceImpl<typeof Echo>; calls: () => number } {
  let calls = 0;
  const impl: ServiceImpl<typeof Echo> = {
    unary: (req, ctx) => (calls++, echoService.unary(req, ctx)),
    serverStream: (req, ctx) => (calls++, echoService.serverStream(req, ctx)),
    clientStream: (reqs, ctx) => (calls++, echoService.clientStream(reqs, ctx)),
    bidi: (reqs, ctx) => (calls++, echoService.bidi(reqs, ctx)),
  };
  return { impl, calls: () => calls };
}

/** Runs one call of each kind, sending "<kind>-1", "<kind>-2" where a stream allows. Returns the responses' texts. */
async function callEveryKind(client: Client<typeof Echo>): Promise<Record<string, string[]>> {
  return {
    unary: [text(await client.unary({ message: "unary-1" }))],
    serverStream: (await collect(client.serverStream({ message: "server-1", count: 2 }))).map(text),
    clientStream: [text(await client.clientStream([{ message: "client-1" }, { message: "client-2" }]))],
    bidi: (await collect(client.bidi([{ message: "bidi-1" }, { message: "bidi-2" }]))).map(text),
  };
}

const everyKindResponses = {
  unary: ["unary-1"],
  serverStream: ["server-1", "server-1"],
  clientStream: ["client-1,client-2"],
  bidi: ["bidi-1", "bidi-2"],
};

describe("client interceptors", () => {
  let server: TestServer;
  let echo: ReturnType<typeof countingEcho>;
  before(async () => {
    echo = countingEcho();
    server = await startServer((s) => s.add(Echo, echo.impl));
  });
  after(() => server?.close());

  function clientWith(...interceptors: ClientInterceptor[]) {
    const channel = createChannel(server.target, credentials.insecure(), { interceptors });
    return { channel, client: createClient(Echo, channel) };
  }

  test("run in the order listed, the first one outermost", async () => {
    const events: string[] = [];
    const named = (name: string): ClientInterceptor => (next) => async (req) => {
      events.push(`${name} request`);
      const res = await next(req);
      events.push(`${name} response`);
      return res;
    };
    const { channel, client } = clientWith(named("a"), named("b"), named("c"));
    try {
      await client.unary({ message: "x" });
      assert.deepEqual(events, ["a request", "b request", "c request", "c response", "b response", "a response"]);
    } finally {
      channel.close();
    }
  });

  test("can add request metadata, replace what the caller set, and read response header and trailer", async () => {
    const metadataServer = await startServer((s) => s.add(Echo, {
      unary(_req, ctx) {
        ctx.responseHeader.set("x-seen", JSON.stringify(ctx.requestMetadata.toJSON()));
        ctx.responseTrailer.set("x-trailer", "t-value");
        return { message: "ok" };
      },
    }));
    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    const interceptor: ClientInterceptor = (next) => async (req) => {
      req.metadata.set("x-added", "by-interceptor");
      req.metadata.set("x-replaced", "new");
      const res = await next(req);
      header = res.header;
      trailer = res.trailer;
      return res;
    };
    const channel = createChannel(metadataServer.target, credentials.insecure(), { interceptors: [interceptor] });
    try {
      await createClient(Echo, channel).unary({}, { metadata: { "x-replaced": "old", "x-kept": "caller" } });
      const seen = JSON.parse(header?.getString("x-seen") ?? "{}") as Record<string, string[]>;
      assert.deepEqual(seen["x-added"], ["by-interceptor"]);
      assert.deepEqual(seen["x-replaced"], ["new"]);
      assert.deepEqual(seen["x-kept"], ["caller"]);
      assert.equal(trailer?.getString("x-trailer"), "t-value");
    } finally {
      channel.close();
      await metadataServer.close();
    }
  });

  test("see every message of all four call kinds, in both directions", async () => {
    const sent: string[] = [];
    const received: string[] = [];
    const recorder: ClientInterceptor = (next) => async (req) => {
      if (req.stream) req = { ...req, message: tap(req.message, (m) => sent.push(text(m))) };
      else sent.push(text(req.message));
      const res = await next(req);
      if (!res.stream) {
        received.push(text(res.message));
        return res;
      }
      return { ...res, message: tap(res.message, (m) => received.push(text(m))) };
    };
    const { channel, client } = clientWith(recorder);
    try {
      assert.deepEqual(await callEveryKind(client), everyKindResponses);
      assert.deepEqual(sent, ["unary-1", "server-1", "client-1", "client-2", "bidi-1", "bidi-2"]);
      assert.deepEqual(received, ["unary-1", "server-1", "server-1", "client-1,client-2", "bidi-1", "bidi-2"]);
    } finally {
      channel.close();
    }
  });

  test("can change request and response messages", async () => {
    const shout: ClientInterceptor = (next) => async (req) => {
      if (req.stream || !isMessage(req.message, EchoRequestSchema)) return next(req);
      const res = await next({ ...req, message: create(EchoRequestSchema, { message: req.message.message.toUpperCase() }) });
      if (res.stream || !isMessage(res.message, EchoResponseSchema)) return res;
      return { ...res, message: create(EchoResponseSchema, { message: `${res.message.message}!` }) };
    };
    const { channel, client } = clientWith(shout);
    try {
      assert.equal((await client.unary({ message: "hey" })).message, "HEY!");
    } finally {
      channel.close();
    }
  });

  test("stop a call before it is sent: the caller gets the interceptor's status and no server sees the call", async () => {
    const deny: ClientInterceptor = () => async (req) => {
      throw new GrpcError(Code.PERMISSION_DENIED, `${req.method.name} is not allowed from here`);
    };
    const before = echo.calls();
    const { channel, client } = clientWith(deny);
    // Nothing listens on this target: a call that reached the wire would fail UNAVAILABLE.
    const nowhere = createChannel("127.0.0.1:1", credentials.insecure(), { interceptors: [deny] });
    try {
      await assert.rejects(client.unary({ message: "x" }), assertGrpcError(Code.PERMISSION_DENIED, /Unary is not allowed/));
      await assert.rejects(collect(client.serverStream({ count: 3 })), assertGrpcError(Code.PERMISSION_DENIED));
      await assert.rejects(client.clientStream([{ message: "a" }]), assertGrpcError(Code.PERMISSION_DENIED));
      await assert.rejects(collect(client.bidi([{ message: "a" }])), assertGrpcError(Code.PERMISSION_DENIED));
      await assert.rejects(createClient(Echo, nowhere).unary({}), assertGrpcError(Code.PERMISSION_DENIED));
      assert.equal(echo.calls(), before);
    } finally {
      channel.close();
      nowhere.close();
    }
  });

  test("see the status of a failed call as a GrpcError", async () => {
    const codes: Code[] = [];
    const watch: ClientInterceptor = (next) => async (req) => {
      try {
        return await next(req);
      } catch (err) {
        if (err instanceof GrpcError) codes.push(err.code);
        throw err;
      }
    };
    const { channel, client } = clientWith(watch);
    try {
      await assert.rejects(client.unary({ failCode: Code.RESOURCE_EXHAUSTED, failMessage: "quota" }), assertGrpcError(Code.RESOURCE_EXHAUSTED));
      assert.deepEqual(codes, [Code.RESOURCE_EXHAUSTED]);
    } finally {
      channel.close();
    }
  });
});

describe("server interceptors", () => {
  async function serverWith(impl: Partial<ServiceImpl<typeof Echo>>, ...interceptors: ServerInterceptor[]) {
    const ts = await startServer((s) => s.add(Echo, impl), { interceptors });
    const channel = createChannel(ts.target);
    return {
      client: createClient(Echo, channel),
      close: async () => {
        channel.close();
        await ts.close();
      },
    };
  }

  test("run in the order listed, the first one outermost, around the handler", async () => {
    const events: string[] = [];
    const named = (name: string): ServerInterceptor => (next) => async (req) => {
      events.push(`${name} request`);
      const res = await next(req);
      events.push(`${name} response`);
      return res;
    };
    const env = await serverWith({
      unary: () => {
        events.push("handler");
        return { message: "ok" };
      },
    }, named("a"), named("b"), named("c"));
    try {
      await env.client.unary({});
      assert.deepEqual(events, ["a request", "b request", "c request", "handler", "c response", "b response", "a response"]);
    } finally {
      await env.close();
    }
  });

  test("can read request metadata, change it for the handler, and set response header and trailer", async () => {
    const interceptor: ServerInterceptor = (next) => async (req) => {
      const user = req.ctx.requestMetadata.getString("x-user");
      req.ctx.requestMetadata.set("x-role", user === "root" ? "admin" : "guest");
      req.ctx.requestMetadata.delete("x-user");
      req.ctx.responseHeader.set("x-intercepted", "yes");
      const res = await next(req);
      req.ctx.responseTrailer.set("x-handled-by", req.method.name);
      return res;
    };
    const env = await serverWith({
      unary: (_req, ctx) => ({ message: `${ctx.requestMetadata.getString("x-role")} user=${String(ctx.requestMetadata.getString("x-user"))}` }),
    }, interceptor);
    try {
      let header: Metadata | undefined;
      let trailer: Metadata | undefined;
      const res = await env.client.unary({}, { metadata: { "x-user": "root" }, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
      assert.equal(res.message, "admin user=undefined");
      assert.equal(header?.getString("x-intercepted"), "yes");
      assert.equal(trailer?.getString("x-handled-by"), "Unary");
    } finally {
      await env.close();
    }
  });

  test("see every message of all four call kinds, in both directions", async () => {
    const received: string[] = [];
    const sent: string[] = [];
    const recorder: ServerInterceptor = (next) => async (req) => {
      if (req.stream) req = { ...req, message: tap(req.message, (m) => received.push(text(m))) };
      else received.push(text(req.message));
      const res = await next(req);
      if (!res.stream) {
        sent.push(text(res.message));
        return res;
      }
      return { stream: true, message: tap(res.message, (m) => sent.push(text(m))) };
    };
    const env = await serverWith(echoService, recorder);
    try {
      assert.deepEqual(await callEveryKind(env.client), everyKindResponses);
      assert.deepEqual(received, ["unary-1", "server-1", "client-1", "client-2", "bidi-1", "bidi-2"]);
      assert.deepEqual(sent, ["unary-1", "server-1", "server-1", "client-1,client-2", "bidi-1", "bidi-2"]);
    } finally {
      await env.close();
    }
  });

  test("stop a call with a status before the handler runs, for every call kind", async () => {
    const echo = countingEcho();
    const deny: ServerInterceptor = () => async (req) => {
      throw new GrpcError(Code.FAILED_PRECONDITION, `${req.method.name} is closed for maintenance`, { metadata: new Metadata().set("x-retry-after", "60") });
    };
    const env = await serverWith(echo.impl, deny);
    try {
      let trailer: Metadata | undefined;
      await assert.rejects(
        env.client.unary({ message: "x" }, { onTrailer: (t) => (trailer = t) }),
        assertGrpcError(Code.FAILED_PRECONDITION, /^Unary is closed for maintenance$/),
      );
      assert.equal(trailer?.getString("x-retry-after"), "60");
      await assert.rejects(collect(env.client.serverStream({ count: 3 })), assertGrpcError(Code.FAILED_PRECONDITION));
      await assert.rejects(env.client.clientStream([{ message: "a" }, { message: "b" }]), assertGrpcError(Code.FAILED_PRECONDITION));
      await assert.rejects(collect(env.client.bidi([{ message: "a" }])), assertGrpcError(Code.FAILED_PRECONDITION));
      assert.equal(echo.calls(), 0);
    } finally {
      await env.close();
    }
  });

  test("an interceptor that throws a plain Error ends the call with UNKNOWN", async () => {
    const broken: ServerInterceptor = () => async () => {
      throw new Error("bug in an interceptor");
    };
    const env = await serverWith(echoService, broken);
    try {
      await assert.rejects(env.client.unary({}), assertGrpcError(Code.UNKNOWN));
    } finally {
      await env.close();
    }
  });
});

describe("serverLoggingInterceptor and clientLoggingInterceptor", () => {
  test("log one line per call with method, status code and duration, streams when they end", async () => {
    const serverLines: string[] = [];
    const serverRecords: CallLogRecord[] = [];
    const clientLines: string[] = [];
    const clientRecords: CallLogRecord[] = [];
    const ts = await startServer((s) => s.add(Echo, echoService), {
      interceptors: [serverLoggingInterceptor({ log: (line, record) => (serverLines.push(line), serverRecords.push(record)) })],
    });
    const channel = createChannel(ts.target, credentials.insecure(), {
      interceptors: [clientLoggingInterceptor({ log: (line, record) => (clientLines.push(line), clientRecords.push(record)) })],
    });
    const client = createClient(Echo, channel);
    try {
      await client.unary({ message: "slow", delayMs: 50 });
      await assert.rejects(client.unary({ failCode: Code.NOT_FOUND, failMessage: "no such thing" }), assertGrpcError(Code.NOT_FOUND));
      const streamed = collect(client.serverStream({ count: 3, delayMs: 20 }));
      await sleep(5);
      assert.equal(clientRecords.length, 2, "a stream is logged when it ends, not when it starts");
      assert.equal((await streamed).length, 3);

      const method = (name: string) => `/grpcts.test.Echo/${name}`;
      for (const [records, side] of [[clientRecords, "client"], [serverRecords, "server"]] as const) {
        assert.deepEqual(records.map((r) => [r.side, r.method, Code[r.code], r.message]), [
          [side, method("Unary"), "OK", ""],
          [side, method("Unary"), "NOT_FOUND", "no such thing"],
          [side, method("ServerStream"), "OK", ""],
        ]);
        assert.ok(records[0]!.durationMs >= 45, `the 50 ms call took ${records[0]!.durationMs} ms`);
        assert.ok(records[2]!.durationMs >= 55, `the 3 x 20 ms stream took ${records[2]!.durationMs} ms`);
      }
      assert.match(serverRecords[0]!.peer ?? "", /^ipv4:127\.0\.0\.1:\d+$/);
      assert.match(clientLines[0]!, /^client \/grpcts\.test\.Echo\/Unary OK \d+\.\dms$/);
      assert.match(serverLines[1]!, /^server \/grpcts\.test\.Echo\/Unary NOT_FOUND \d+\.\dms peer=ipv4:127\.0\.0\.1:\d+ "no such thing"$/);
    } finally {
      channel.close();
      await ts.close();
    }
  });

  test("log a call whose deadline passed with that failure, not OK, even when the handler returns anyway", async () => {
    const serverRecords: CallLogRecord[] = [];
    const clientRecords: CallLogRecord[] = [];
    let handlerReturned!: () => void;
    const returned = new Promise<void>((resolve) => (handlerReturned = resolve));
    const ts = await startServer((s) => s.add(Echo, {
      async unary(req, ctx) {
        await sleep(req.delayMs, undefined, { signal: ctx.signal }).catch(() => undefined);
        setImmediate(handlerReturned);
        return { message: "ignored the deadline" };
      },
    }), { interceptors: [serverLoggingInterceptor({ log: (_line, record) => serverRecords.push(record) })] });
    const channel = createChannel(ts.target, credentials.insecure(), {
      interceptors: [clientLoggingInterceptor({ log: (_line, record) => clientRecords.push(record) })],
    });
    try {
      await assert.rejects(createClient(Echo, channel).unary({ delayMs: 10_000 }, { timeoutMs: 100 }), assertGrpcError(Code.DEADLINE_EXCEEDED));
      await returned;
      assert.deepEqual(clientRecords.map((r) => Code[r.code]), ["DEADLINE_EXCEEDED"]);
      // The server's own deadline timer and the client's RST_STREAM(CANCEL) race: either ends the call.
      assert.equal(serverRecords.length, 1);
      assert.ok(["DEADLINE_EXCEEDED", "CANCELLED"].includes(Code[serverRecords[0]!.code]), `server logged ${Code[serverRecords[0]!.code]}`);
    } finally {
      channel.close();
      await ts.close();
    }
  });

  test("log a stream the caller abandons as CANCELLED on both sides", async () => {
    const serverRecords: CallLogRecord[] = [];
    const clientRecords: CallLogRecord[] = [];
    let serverLogged!: () => void;
    const serverDone = new Promise<void>((resolve) => (serverLogged = resolve));
    const ts = await startServer((s) => s.add(Echo, echoService), {
      interceptors: [serverLoggingInterceptor({ log: (_line, record) => (serverRecords.push(record), serverLogged()) })],
    });
    const channel = createChannel(ts.target, credentials.insecure(), {
      interceptors: [clientLoggingInterceptor({ log: (_line, record) => clientRecords.push(record) })],
    });
    try {
      for await (const res of createClient(Echo, channel).serverStream({ count: 1000, delayMs: 10 })) {
        if (res.index === 1) break;
      }
      await serverDone;
      assert.deepEqual(clientRecords.map((r) => Code[r.code]), ["CANCELLED"]);
      assert.deepEqual(serverRecords.map((r) => Code[r.code]), ["CANCELLED"]);
    } finally {
      channel.close();
      await ts.close();
    }
  });
});

describe("bearerAuthInterceptor", () => {
  let server: TestServer;
  let echo: ReturnType<typeof countingEcho>;
  const checked: Array<[string, string]> = [];
  const records: CallLogRecord[] = [];
  before(async () => {
    echo = countingEcho();
    server = await startServer((s) => s.add(Echo, echo.impl), {
      interceptors: [
        serverLoggingInterceptor({ log: (_line, record) => records.push(record) }),
        bearerAuthInterceptor({
          async isAllowed(token, ctx) {
            checked.push([token, ctx.method.name]);
            await sleep(1);
            // "reader" may only call Unary; "admin" anything.
            return token === "admin" || (token === "reader" && ctx.method.name === "Unary");
          },
        }),
      ],
    });
  });
  after(() => server?.close());

  async function callWith(authorization: string | undefined, kind: "unary" | "bidi" = "unary") {
    const channel = createChannel(server.target);
    const metadata = new Metadata();
    if (authorization !== undefined) metadata.set("authorization", authorization);
    try {
      const client = createClient(Echo, channel);
      if (kind === "unary") return text(await client.unary({ message: "in" }, { metadata }));
      return (await collect(client.bidi([{ message: "in" }], { metadata }))).map(text).join();
    } finally {
      channel.close();
    }
  }

  test("lets an allowed token through to the handler, which checks the method", async () => {
    assert.equal(await callWith("Bearer reader"), "in");
    assert.equal(await callWith("bearer admin", "bidi"), "in");
    assert.deepEqual(checked.slice(-2), [["reader", "Unary"], ["admin", "Bidi"]]);
  });

  test("refuses a call without an authorization header with UNAUTHENTICATED before the handler runs", async () => {
    const before = echo.calls();
    await assert.rejects(callWith(undefined), assertGrpcError(Code.UNAUTHENTICATED, /missing/));
    await assert.rejects(callWith(undefined, "bidi"), assertGrpcError(Code.UNAUTHENTICATED, /missing/));
    assert.equal(echo.calls(), before);
  });

  // ("Bearer " is no case: HTTP/2 forbids trailing whitespace in a value and the header never arrives.)
  for (const malformed of ["Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Bearer", "Bearer two words", "Bearertoken", "Bearer tok%n"]) {
    test(`refuses the malformed header ${JSON.stringify(malformed)} with UNAUTHENTICATED without asking isAllowed`, async () => {
      const before = [echo.calls(), checked.length];
      await assert.rejects(callWith(malformed), assertGrpcError(Code.UNAUTHENTICATED, /malformed/));
      assert.deepEqual([echo.calls(), checked.length], before);
    });
  }

  test("refuses two authorization headers with UNAUTHENTICATED", async () => {
    // node:http2 keeps one value of a repeated authorization header, so the client sends them joined.
    await assert.rejects(callWith("Bearer admin, Bearer reader"), assertGrpcError(Code.UNAUTHENTICATED, /malformed/));
  });

  test("refuses a token isAllowed rejects with PERMISSION_DENIED before the handler runs", async () => {
    const before = echo.calls();
    await assert.rejects(callWith("Bearer stranger"), assertGrpcError(Code.PERMISSION_DENIED));
    await assert.rejects(callWith("Bearer reader", "bidi"), assertGrpcError(Code.PERMISSION_DENIED, /Bidi/));
    assert.equal(echo.calls(), before);
  });

  test("composes with the logging interceptor, which sees the refusals' codes", async () => {
    records.length = 0;
    await callWith("Bearer reader");
    await assert.rejects(callWith(undefined));
    await assert.rejects(callWith("Bearer stranger"));
    assert.deepEqual(records.map((r) => Code[r.code]), ["OK", "UNAUTHENTICATED", "PERMISSION_DENIED"]);
  });
});
