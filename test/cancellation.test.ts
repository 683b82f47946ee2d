/**
 * Cancellation end to end: an AbortSignal on the client fails the call with CANCELLED
 * and aborts the server handler's ctx.signal, for every call type; so do a consumer
 * that stops reading, a dropped connection, and the cancellation of a parent call.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, before, describe, test } from "node:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, GrpcError, createChannel, createClient, credentials, type Channel, type Client, type ServiceImpl } from "../src/index.js";
import { Echo, type EchoRequestSchema } from "./gen/echo_pb.js";
import { startServer } from "./helpers/server.js";

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

function drain(stream: AsyncIterable<unknown>, received: unknown[] = []): Promise<void> {
  return (async () => {
    for await (const message of stream) received.push(message);
  })();
}

/** Request messages that never end (until the call does). */
async function* endlessRequests(signal: AbortSignal): AsyncIterable<MessageInitShape<typeof EchoRequestSchema>> {
  yield { message: "first" };
  await aborted(signal);
}

/**
 * The Echo service with handlers that announce their start (with their signal) and
 * then wait for that signal to abort; streaming ones exchange one message first.
 * `nextSignal()` hands out the signals in the order the handlers started.
 */
function createWaitingService() {
  const started: AbortSignal[] = [];
  const takers: Array<(signal: AbortSignal) => void> = [];
  const counter = { calls: 0 };
  async function wait(signal: AbortSignal): Promise<never> {
    counter.calls++;
    const taker = takers.shift();
    if (taker !== undefined) taker(signal);
    else started.push(signal);
    throw await aborted(signal);
  }
  const service: ServiceImpl<typeof Echo> = {
    unary: (_req, ctx) => wait(ctx.signal),
    async *serverStream(_req, ctx) {
      yield { message: "one" };
      await wait(ctx.signal);
    },
    async clientStream(requests, ctx) {
      for await (const _ of requests) break;
      return wait(ctx.signal);
    },
    async *bidi(requests, ctx) {
      for await (const req of requests) {
        yield { message: req.message };
        break;
      }
      await wait(ctx.signal);
    },
  };
  return {
    service,
    counter,
    nextSignal(): Promise<AbortSignal> {
      const signal = started.shift();
      if (signal !== undefined) return Promise.resolve(signal);
      return new Promise((resolve) => takers.push(resolve));
    },
  };
}
const waiters = createWaitingService();

describe("cancelling calls", () => {
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;
  let client: Client<typeof Echo>;

  before(async () => {
    env = await startServer((s) => s.add(Echo, waiters.service));
    channel = createChannel(env.target, credentials.insecure());
    client = createClient(Echo, channel);
  });
  after(async () => {
    channel.close();
    await env.close();
  });

  const kinds = {
    unary: (signal: AbortSignal) => client.unary({ message: "x" }, { signal }),
    "server streaming": (signal: AbortSignal) => drain(client.serverStream({ message: "x" }, { signal })),
    "client streaming": (signal: AbortSignal) => client.clientStream(endlessRequests(signal), { signal }),
    bidi: (signal: AbortSignal) => drain(client.bidi(endlessRequests(signal), { signal })),
  };
  for (const [kind, call] of Object.entries(kinds)) {
    test(`aborting the signal of a ${kind} call fails it with CANCELLED and aborts the handler's signal`, async () => {
      const controller = new AbortController();
      const failed = rejection(call(controller.signal));
      const serverSignal = await waiters.nextSignal();
      assert.equal(serverSignal.aborted, false);
      controller.abort();
      const err = await failed;
      assert.equal(err.code, Code.CANCELLED);
      const reason = await aborted(serverSignal);
      assert.ok(reason instanceof GrpcError);
      assert.equal(reason.code, Code.CANCELLED);
    });
  }

  test("a signal aborted with a GrpcError fails the call with that error", async () => {
    const controller = new AbortController();
    const failed = rejection(client.unary({}, { signal: controller.signal }));
    const serverSignal = await waiters.nextSignal();
    const reason = new GrpcError(Code.ABORTED, "the user closed the page");
    controller.abort(reason);
    assert.equal(await failed, reason);
    await aborted(serverSignal);
  });

  test("an already aborted signal fails with CANCELLED without reaching a handler", async () => {
    const callsBefore = waiters.counter.calls;
    const err = await rejection(client.unary({}, { signal: AbortSignal.abort() }));
    assert.equal(err.code, Code.CANCELLED);
    const controller = new AbortController();
    const next = rejection(client.unary({}, { signal: controller.signal }));
    await waiters.nextSignal(); // the next call reaches its handler, the aborted one never did
    controller.abort();
    await next;
    assert.equal(waiters.counter.calls, callsBefore + 1);
  });

  test("stopping to read a server stream (break) cancels the call and aborts the handler's signal", async () => {
    const stream = client.serverStream({ message: "x" });
    for await (const res of stream) {
      assert.equal(res.message, "one");
      break;
    }
    const serverSignal = await waiters.nextSignal();
    const reason = await aborted(serverSignal);
    assert.ok(reason instanceof GrpcError && reason.code === Code.CANCELLED);
  });

  test("destroying the client's connection aborts the handler's signal and fails the call", async () => {
    // A channel of its own, so dropping its connection disturbs no other test.
    const own = createChannel(env.target, credentials.insecure());
    try {
      const failed = rejection(createClient(Echo, own).unary({}));
      const serverSignal = await waiters.nextSignal();
      // The call is running, so the channel is READY and hands out its connection at once.
      const transport = own.pick({ waitForReady: false, onPicked() {}, onPickFailed() {} });
      assert.ok(transport !== undefined && !(transport instanceof Error));
      transport.destroy();
      const reason = await aborted(serverSignal);
      assert.ok(reason instanceof GrpcError);
      assert.equal(reason.code, Code.CANCELLED);
      await failed;
    } finally {
      own.close();
    }
  });

  test("a client process that dies mid-call aborts the handler's signal", async () => {
    // No RST_STREAM, no GOAWAY: the socket just closes when the process is killed.
    const script = `
      const session = require("node:http2").connect(process.argv[1]);
      const stream = session.request({ ":method": "POST", ":path": "/grpcts.test.Echo/Unary", "content-type": "application/grpc", te: "trailers" });
      stream.end(Buffer.from([0, 0, 0, 0, 0])); // one empty EchoRequest
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ["-e", script, `http://${env.target}`], { stdio: "ignore" });
    const exited = once(child, "exit");
    try {
      const serverSignal = await Promise.race([
        waiters.nextSignal(),
        exited.then(() => assert.fail("the client process exited before its call reached the handler")),
      ]);
      assert.equal(serverSignal.aborted, false);
      child.kill("SIGKILL");
      const reason = await aborted(serverSignal);
      assert.ok(reason instanceof GrpcError);
      assert.equal(reason.code, Code.CANCELLED);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    }
  });
});

describe("cancellation through { parent: ctx }", () => {
  let inner: Awaited<ReturnType<typeof startServer>>;
  let outer: Awaited<ReturnType<typeof startServer>>;
  let innerChannel: Channel;
  let outerChannel: Channel;
  const outerSignals: AbortSignal[] = [];

  before(async () => {
    inner = await startServer((s) => s.add(Echo, waiters.service));
    innerChannel = createChannel(inner.target, credentials.insecure());
    const innerClient = createClient(Echo, innerChannel);
    outer = await startServer((s) =>
      s.add(Echo, {
        unary(req, ctx) {
          outerSignals.push(ctx.signal);
          return innerClient.unary(req, { parent: ctx });
        },
        async *serverStream(req, ctx) {
          outerSignals.push(ctx.signal);
          yield* innerClient.serverStream(req, { parent: ctx });
        },
      }),
    );
    outerChannel = createChannel(outer.target, credentials.insecure());
  });
  after(async () => {
    outerChannel.close();
    innerChannel.close();
    await outer.close();
    await inner.close();
  });

  test("cancelling the outer call cancels the call its handler made", async () => {
    const controller = new AbortController();
    const failed = rejection(createClient(Echo, outerChannel).unary({}, { signal: controller.signal }));
    const innerSignal = await waiters.nextSignal();
    controller.abort();
    assert.equal((await failed).code, Code.CANCELLED);
    const outerSignal = outerSignals.at(-1);
    assert.ok(outerSignal !== undefined);
    await aborted(outerSignal);
    const reason = await aborted(innerSignal);
    assert.ok(reason instanceof GrpcError && reason.code === Code.CANCELLED);
  });

  test("a consumer leaving the outer stream cancels the inner stream", async () => {
    for await (const res of createClient(Echo, outerChannel).serverStream({})) {
      assert.equal(res.message, "one", "the inner server's message came through the outer one");
      break;
    }
    const innerSignal = await waiters.nextSignal();
    await aborted(innerSignal);
  });
});
