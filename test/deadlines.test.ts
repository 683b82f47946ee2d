/**
 * Deadlines end to end: the client's own timer, the server's grpc-timeout enforcement,
 * ctx.deadline, inheritance through { parent: ctx }, and deadlines too long for one
 * setTimeout. Raw node:http2 peers stand in where a well-behaved grpc-ts peer would
 * hide what is being proved (a server that never answers, a client that never cancels).
 */
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, GrpcError, createChannel, createClient, credentials, type Channel, type Client, type HandlerContext, type ServiceImpl } from "../src/index.js";
import { encodeFrame } from "../src/protocol/frame.js";
import { Echo, EchoRequestSchema } from "./gen/echo_pb.js";
import { echoService, startServer } from "./helpers/server.js";

/** Upper bound on how late a deadline may fire on two busy shared cores. */
const latenessMs = 2_000;
const maxTimerMs = 2 ** 31 - 1;

/** What a handler saw of its call, reported back in the response message. */
interface Seen {
  deadline: number | null;
  remaining: number | null;
}
function seenBy(ctx: HandlerContext): string {
  const seen: Seen = { deadline: ctx.deadline ?? null, remaining: Number.isFinite(ctx.timeRemaining()) ? ctx.timeRemaining() : null };
  return JSON.stringify(seen);
}
function parseSeen(message: string): Seen {
  return JSON.parse(message) as Seen;
}

/** Resolves with the reason once `signal` aborts. */
function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(signal.reason), { once: true }));
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

describe("deadlines against a grpc-ts server", () => {
  /** Signals of handlers that wait forever ("wait" requests), in arrival order. */
  const waiting: AbortSignal[] = [];
  let handlerCalls = 0;
  const impl: ServiceImpl<typeof Echo> = {
    async unary(req, ctx) {
      handlerCalls++;
      switch (req.message) {
        case "wait":
          waiting.push(ctx.signal);
          await aborted(ctx.signal);
          throw ctx.signal.reason;
        case "sleep-then-answer":
          await sleep(req.delayMs); // deliberately deaf to ctx.signal: only an early deadline can fail it
          return { message: seenBy(ctx) };
        default:
          return { message: seenBy(ctx) };
      }
    },
    serverStream: echoService.serverStream,
    clientStream: echoService.clientStream,
    bidi: echoService.bidi,
  };
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;
  let client: Client<typeof Echo>;

  before(async () => {
    env = await startServer((s) => s.add(Echo, impl));
    channel = createChannel(env.target, credentials.insecure());
    client = createClient(Echo, channel);
  });
  after(async () => {
    channel.close();
    await env.close();
  });

  test("a handler that waits on its signal fails the call with DEADLINE_EXCEEDED close to the deadline, and its signal aborts", async () => {
    const start = Date.now();
    const err = await rejection(client.unary({ message: "wait" }, { timeoutMs: 300 }));
    const elapsed = Date.now() - start;
    assert.equal(err.code, Code.DEADLINE_EXCEEDED);
    assert.ok(elapsed >= 290, `failed after ${elapsed} ms, before the deadline`);
    assert.ok(elapsed < 300 + latenessMs, `failed after ${elapsed} ms`);
    const signal = waiting.at(-1);
    assert.ok(signal !== undefined, "the handler ran");
    const reason = await aborted(signal);
    assert.ok(reason instanceof GrpcError);
  });

  test("ctx.deadline is the client's deadline, give or take the transit time", async () => {
    const deadline = Date.now() + 5_000;
    const seen = parseSeen((await client.unary({ message: "look" }, { deadline: new Date(deadline) })).message);
    assert.ok(seen.deadline !== null, "the server has a deadline");
    assert.ok(seen.deadline >= deadline - 5, `server deadline ${seen.deadline} is before the client's ${deadline}`);
    assert.ok(seen.deadline <= deadline + latenessMs, `server deadline ${seen.deadline} is far after the client's ${deadline}`);
    assert.ok(seen.remaining !== null && seen.remaining > 0 && seen.remaining <= 5_000 + latenessMs);
  });

  test("the earlier of timeoutMs and deadline wins", async () => {
    const before = Date.now();
    const seen = parseSeen((await client.unary({ message: "look" }, { timeoutMs: 2_000, deadline: Date.now() + 60_000 })).message);
    assert.ok(seen.deadline !== null && seen.deadline <= before + 2_000 + latenessMs);
  });

  test("a call without a deadline gives the handler none", async () => {
    const seen = parseSeen((await client.unary({ message: "look" })).message);
    assert.equal(seen.deadline, null);
    assert.equal(seen.remaining, null, "timeRemaining() is Infinity");
  });

  test("a deadline already past fails at once without reaching the handler", async () => {
    const callsBefore = handlerCalls;
    const err = await rejection(client.unary({ message: "look" }, { deadline: Date.now() - 1 }));
    assert.equal(err.code, Code.DEADLINE_EXCEEDED);
    await client.unary({ message: "look" });
    assert.equal(handlerCalls, callsBefore + 1, "only the second call ran a handler");
  });

  test("a server stream that outlives its deadline fails with DEADLINE_EXCEEDED after the messages that made it", async () => {
    const got: number[] = [];
    const err = await rejection((async () => {
      for await (const res of client.serverStream({ count: 1_000, delayMs: 20 }, { timeoutMs: 400 })) got.push(res.index);
    })());
    assert.equal(err.code, Code.DEADLINE_EXCEEDED);
    assert.ok(got.length > 0 && got.length < 1_000, `received ${got.length} messages`);
    assert.deepEqual(got, got.map((_, i) => i));
  });

  test("a deadline longer than 2^31-1 ms does not fire early", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const timeoutMs = maxTimerMs + 60_000;
      const before = Date.now();
      const res = await client.unary({ message: "sleep-then-answer", delayMs: 300 }, { timeoutMs });
      const seen = parseSeen(res.message);
      assert.ok(seen.deadline !== null && seen.deadline - before > maxTimerMs, "the server got the long deadline too");
      const far = await client.unary({ message: "sleep-then-answer", delayMs: 100 }, { deadline: new Date(Date.now() + 40 * 24 * 3_600_000) });
      assert.ok(parseSeen(far.message).deadline !== null);
    } finally {
      process.off("warning", onWarning);
    }
    assert.equal(warnings.includes("TimeoutOverflowWarning"), false);
  });

  test("the server enforces grpc-timeout itself when the client never cancels: the signal aborts and the status is DEADLINE_EXCEEDED", async () => {
    // A raw HTTP/2 client that sends grpc-timeout but, unlike a gRPC client, never resets the stream.
    const session = http2.connect(`http://${env.target}`);
    try {
      const waitingBefore = waiting.length;
      const start = Date.now();
      const stream = session.request({
        ":method": "POST",
        ":path": "/grpcts.test.Echo/Unary",
        "content-type": "application/grpc",
        te: "trailers",
        "grpc-timeout": "200m",
      });
      stream.end(encodeFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, { message: "wait" }))));
      stream.resume();
      const status = await new Promise<string | undefined>((resolve, reject) => {
        stream.on("response", (headers, flags) => {
          if ((flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0) resolve(String(headers["grpc-status"]));
        });
        stream.on("trailers", (trailers) => resolve(String(trailers["grpc-status"])));
        stream.on("error", reject);
        stream.on("close", () => resolve(undefined));
      });
      const elapsed = Date.now() - start;
      assert.equal(status, String(Code.DEADLINE_EXCEEDED));
      assert.ok(elapsed >= 190 && elapsed < 200 + latenessMs, `status after ${elapsed} ms`);
      const signal = waiting[waitingBefore];
      assert.ok(signal !== undefined);
      const reason = await aborted(signal);
      assert.ok(reason instanceof GrpcError);
      assert.equal(reason.code, Code.DEADLINE_EXCEEDED);
    } finally {
      session.destroy();
    }
  });
});

describe("the client's own deadline timer", () => {
  // A server that accepts every stream and never answers: no headers, no status, no reset.
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  const resets: number[] = [];
  let streamClosed: () => void = () => undefined;
  let channel: Channel;

  before(async () => {
    server.on("session", (session) => {
      sessions.add(session);
      session.on("close", () => sessions.delete(session));
    });
    server.on("stream", (stream) => {
      stream.resume();
      stream.on("close", () => {
        resets.push(stream.rstCode);
        streamClosed();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === "object");
    channel = createChannel(`127.0.0.1:${address.port}`, credentials.insecure());
  });
  after(async () => {
    channel.close();
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test("fires even if the server never answers: DEADLINE_EXCEEDED, and the stream is reset with CANCEL", async () => {
    const closed = new Promise<void>((resolve) => (streamClosed = resolve));
    const client = createClient(Echo, channel);
    const start = Date.now();
    const err = await rejection(client.unary({ message: "hello?" }, { timeoutMs: 300 }));
    const elapsed = Date.now() - start;
    assert.equal(err.code, Code.DEADLINE_EXCEEDED);
    assert.ok(elapsed >= 290 && elapsed < 300 + latenessMs, `failed after ${elapsed} ms`);
    await closed;
    assert.deepEqual(resets, [http2.constants.NGHTTP2_CANCEL]);
  });

  test("fires for a bidi stream whose server never answers", async () => {
    const closed = new Promise<void>((resolve) => (streamClosed = resolve));
    const client = createClient(Echo, channel);
    const err = await rejection((async () => {
      for await (const res of client.bidi([{ message: "anyone?" }], { timeoutMs: 200 })) assert.fail(`unexpected ${res.message}`);
    })());
    assert.equal(err.code, Code.DEADLINE_EXCEEDED);
    await closed;
  });
});

describe("deadline inheritance through { parent: ctx }", () => {
  const innerSignals: AbortSignal[] = [];
  let inner: Awaited<ReturnType<typeof startServer>>;
  let outer: Awaited<ReturnType<typeof startServer>>;
  let innerChannel: Channel;
  let outerChannel: Channel;
  let client: Client<typeof Echo>;

  before(async () => {
    inner = await startServer((s) =>
      s.add(Echo, {
        async unary(req, ctx) {
          if (req.message === "wait") {
            innerSignals.push(ctx.signal);
            await aborted(ctx.signal);
            throw ctx.signal.reason;
          }
          return { message: seenBy(ctx) };
        },
      }),
    );
    innerChannel = createChannel(inner.target, credentials.insecure());
    const innerClient = createClient(Echo, innerChannel);
    outer = await startServer((s) =>
      s.add(Echo, {
        // Forwards the request to the inner server with a generous timeout of its own,
        // and answers with what the outer and the inner handler saw.
        async unary(req, ctx) {
          const res = await innerClient.unary(req, { parent: ctx, timeoutMs: 600_000 });
          return { message: JSON.stringify({ outer: parseSeen(seenBy(ctx)), inner: parseSeen(res.message) }) };
        },
      }),
    );
    outerChannel = createChannel(outer.target, credentials.insecure());
    client = createClient(Echo, outerChannel);
  });
  after(async () => {
    outerChannel.close();
    innerChannel.close();
    await outer.close();
    await inner.close();
  });

  test("a call made in a handler sees a deadline no later than the handler's", async () => {
    const res = await client.unary({ message: "look" }, { timeoutMs: 5_000 });
    const { outer: o, inner: i } = JSON.parse(res.message) as { outer: Seen; inner: Seen };
    assert.ok(o.deadline !== null && i.deadline !== null);
    // Only the transit time of the inner call may separate them (the same clock on one host).
    assert.ok(i.deadline <= o.deadline + latenessMs, `inner ${i.deadline} vs outer ${o.deadline}`);
    assert.ok(i.deadline < Date.now() + 10_000, "the parent's 5 s deadline won over the call's own 600 s");
  });

  test("the inherited deadline is enforced: the inner handler's signal aborts and the caller gets DEADLINE_EXCEEDED", async () => {
    const start = Date.now();
    const err = await rejection(client.unary({ message: "wait" }, { timeoutMs: 300 }));
    assert.equal(err.code, Code.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - start < 300 + latenessMs);
    const signal = innerSignals.at(-1);
    assert.ok(signal !== undefined, "the inner handler ran");
    await aborted(signal);
  });

  test("a handler without a deadline passes none on", async () => {
    const res = await client.unary({ message: "look" });
    const { outer: o, inner: i } = JSON.parse(res.message) as { outer: Seen; inner: Seen };
    assert.equal(o.deadline, null);
    assert.ok(i.deadline !== null && i.deadline > Date.now() + 500_000, "only the call's own 600 s timeout applies");
  });
});
