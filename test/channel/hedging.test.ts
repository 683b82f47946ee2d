/**
 * Hedging (gRFC A6) on real sockets: further attempts go out every hedgingDelay while
 * none has answered; the first answer wins and the others are cancelled (the server
 * sees their signal abort); a non-fatal failure starts the next attempt at once; a
 * fatal one ends the call.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, createChannel, createClient, type Channel, type HandlerContext } from "../../src/index.js";
import { Echo } from "../gen/echo_pb.js";
import { startServer, testTransport, type TestServer } from "../helpers/server.js";

const service = "grpcts.test.Echo";

interface HedgeAttempt {
  readonly previous: string | undefined;
  readonly at: number;
  aborted: boolean;
}

/** Attempts per call, keyed by the request message. */
const attempts = new Map<string, HedgeAttempt[]>();
/** What attempt number `index` (0-based) of a call does. */
type Behaviour = (index: number, ctx: HandlerContext) => Promise<void>;
let behaviour: Behaviour = async () => undefined;

let server: TestServer;
before(async () => {
  server = await startServer((s) =>
    s.add(Echo, {
      async unary(req, ctx) {
        const list = attempts.get(req.message) ?? [];
        attempts.set(req.message, list);
        const previous = ctx.requestMetadata.getString("grpc-previous-rpc-attempts");
        const entry: HedgeAttempt = { previous, at: performance.now(), aborted: false };
        list.push(entry);
        ctx.signal.addEventListener("abort", () => (entry.aborted = true), { once: true });
        // Attempts are told apart by grpc-previous-rpc-attempts, not by arrival order.
        const index = previous === undefined ? 0 : Number(previous);
        await behaviour(index, ctx);
        return { message: `${req.message} answered by attempt ${index}` };
      },
    }),
  );
});

const channels: Channel[] = [];
after(async () => {
  for (const channel of channels) channel.close();
  await server.close();
});

/** A connected channel (hedge timing counts from the attempt's start, connecting included). */
async function hedgingChannel(policy: { maxAttempts: number; hedgingDelay?: string; nonFatalStatusCodes?: string[] }): Promise<Channel> {
  const channel = createChannel(server.target, undefined, {
    transport: testTransport,
    serviceConfig: { methodConfig: [{ name: [{ service, method: "Unary" }], hedgingPolicy: policy }] },
  });
  channels.push(channel);
  channel.getConnectivityState(true);
  const deadline = Date.now() + 5_000;
  while (channel.getConnectivityState() !== "READY" && Date.now() < deadline) await channel.watchConnectivityState(channel.getConnectivityState(), deadline);
  assert.equal(channel.getConnectivityState(), "READY");
  return channel;
}

const slowUnlessCancelled = (ms: number, ctx: HandlerContext) => sleep(ms, undefined, { signal: ctx.signal }).catch(() => undefined);

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

test("sends a second attempt after hedgingDelay and cancels the slower one when the faster answers", async () => {
  behaviour = (index, ctx) => (index === 0 ? slowUnlessCancelled(3_000, ctx) : Promise.resolve());
  const client = createClient(Echo, await hedgingChannel({ maxAttempts: 2, hedgingDelay: "0.3s" }));
  const started = Date.now();
  const reply = await client.unary({ message: "hedged" }, { timeoutMs: 5_000 });
  assert.equal(reply.message, "hedged answered by attempt 1");
  assert.ok(Date.now() - started < 2_000, "the hedge answered long before the slow attempt would have");
  const [first, second] = attempts.get("hedged")!;
  const gap = second!.at - first!.at;
  // Measured at the server: the first attempt may reach its handler a little late under load.
  assert.ok(gap >= 200 && gap < 300 + 1_000, `the hedge went out ${gap.toFixed(0)} ms after the first attempt (hedgingDelay 300 ms)`);
  assert.deepEqual([first!.previous, second!.previous], [undefined, "1"]);
  await waitFor(() => first!.aborted, 5_000);
  assert.equal(second!.aborted, false);
});

test("sends no hedge when the first attempt answers within hedgingDelay", async () => {
  behaviour = async () => undefined;
  const client = createClient(Echo, await hedgingChannel({ maxAttempts: 3, hedgingDelay: "0.5s" }));
  await client.unary({ message: "fast" }, { timeoutMs: 5_000 });
  await sleep(800);
  assert.equal(attempts.get("fast")!.length, 1);
});

test("sends up to maxAttempts hedges, hedgingDelay apart, while none answers", async () => {
  behaviour = (index, ctx) => (index < 2 ? slowUnlessCancelled(3_000, ctx) : sleep(100));
  const client = createClient(Echo, await hedgingChannel({ maxAttempts: 3, hedgingDelay: "0.15s" }));
  const reply = await client.unary({ message: "three hedges" }, { timeoutMs: 5_000 });
  assert.equal(reply.message, "three hedges answered by attempt 2");
  const list = attempts.get("three hedges")!;
  assert.deepEqual(list.map((a) => a.previous), [undefined, "1", "2"]);
  await waitFor(() => list[0]!.aborted && list[1]!.aborted, 5_000);
});

test("a non-fatal failure starts the next attempt at once, without waiting for hedgingDelay", async () => {
  behaviour = async (index) => {
    if (index === 0) throw new GrpcError(Code.UNAVAILABLE, "first attempt fails fast");
  };
  const client = createClient(Echo, await hedgingChannel({ maxAttempts: 2, hedgingDelay: "5s", nonFatalStatusCodes: ["UNAVAILABLE"] }));
  const started = Date.now();
  const reply = await client.unary({ message: "non-fatal" }, { timeoutMs: 10_000 });
  assert.equal(reply.message, "non-fatal answered by attempt 1");
  assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms; hedgingDelay is 5 s`);
});

test("a fatal failure ends the call and cancels the other hedges", async () => {
  behaviour = async (index, ctx) => {
    if (index === 0) return slowUnlessCancelled(3_000, ctx);
    throw new GrpcError(Code.INVALID_ARGUMENT, "the hedge fails fatally");
  };
  const client = createClient(Echo, await hedgingChannel({ maxAttempts: 3, hedgingDelay: "0.1s", nonFatalStatusCodes: ["UNAVAILABLE"] }));
  await assert.rejects(client.unary({ message: "fatal" }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.INVALID_ARGUMENT);
  const list = attempts.get("fatal")!;
  await waitFor(() => list[0]!.aborted, 5_000);
  await sleep(300);
  assert.equal(list.length, 2, "no third hedge after the fatal status");
});

test("hedgingDelay 0s sends every attempt at once", async () => {
  behaviour = (index, ctx) => (index === 0 ? sleep(50) : slowUnlessCancelled(3_000, ctx));
  const client = createClient(Echo, await hedgingChannel({ maxAttempts: 3, hedgingDelay: "0s" }));
  const reply = await client.unary({ message: "all at once" }, { timeoutMs: 5_000 });
  assert.equal(reply.message, "all at once answered by attempt 0");
  const list = attempts.get("all at once")!;
  assert.equal(list.length, 3);
  assert.ok(list[2]!.at - list[0]!.at < 40, "all three arrived before the first answered");
  await waitFor(() => list[1]!.aborted && list[2]!.aborted, 5_000);
});
