/**
 * Retries (gRFC A6) on real sockets: a flaky Echo server fails chosen attempts, and the
 * server-side record of each attempt (arrival, grpc-previous-rpc-attempts, the messages
 * it read) shows what the client's retry layer did. Pushback and REFUSED_STREAM need
 * bytes a grpc-ts server does not send, so a raw node:http2 server provides them
 * (a grpc-ts handler's pushback is tested too).
 */
import { after, before, beforeEach, test } from "node:test";
import assert from "node:assert/strict";
import type * as http2 from "node:http2";
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, createChannel, createClient, type Channel, type ChannelOptions, type HandlerContext } from "../../src/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema, type EchoRequest } from "../gen/echo_pb.js";
import { NGHTTP2_REFUSED_STREAM, grpcFrame, parseGrpcFrames, readRequestBody, respondGrpc, startRawServer } from "../helpers/raw-http2.js";
import { startServer, testTransport, type TestServer } from "../helpers/server.js";

const service = "grpcts.test.Echo";

interface AttemptRecord {
  /** grpc-previous-rpc-attempts as received; undefined on a first attempt. */
  readonly previous: string | undefined;
  readonly at: number;
  /** Request messages the attempt read (streaming methods). */
  readonly messages: string[];
}

/** Attempts seen by the server, per call (keyed by the first request message). */
const attempts = new Map<string, AttemptRecord[]>();
/** How many attempts of each call fail (with the request's failCode) before one succeeds. */
let failFirst = 2;
/** Send response headers before failing (commits the call on the client). */
let headersBeforeFailing = false;

function record(key: string, ctx: HandlerContext): AttemptRecord {
  const entry: AttemptRecord = { previous: ctx.requestMetadata.getString("grpc-previous-rpc-attempts"), at: performance.now(), messages: [] };
  const list = attempts.get(key) ?? [];
  list.push(entry);
  attempts.set(key, list);
  return entry;
}

/** Fails this attempt if it is one of the first `failFirst` of its call. */
function maybeFail(key: string, req: EchoRequest, ctx: HandlerContext): void {
  if (attempts.get(key)!.length > failFirst) return;
  if (headersBeforeFailing) ctx.sendHeader();
  throw new GrpcError((req.failCode || Code.UNAVAILABLE) as Code, `attempt ${attempts.get(key)!.length} fails on purpose`);
}

let server: TestServer;
before(async () => {
  server = await startServer((s) =>
    s.add(Echo, {
      async unary(req, ctx) {
        record(req.message, ctx);
        maybeFail(req.message, req, ctx);
        return { message: req.message };
      },
      async *serverStream(req, ctx) {
        record(req.message, ctx);
        for (let i = 0; i < req.count; i++) yield { message: req.message, index: i };
        maybeFail(req.message, req, ctx);
      },
      async clientStream(reqs, ctx) {
        let entry: AttemptRecord | undefined;
        let last: EchoRequest | undefined;
        for await (const req of reqs) {
          entry ??= record(req.message, ctx);
          entry.messages.push(req.message);
          last = req;
        }
        maybeFail(entry!.messages[0]!, last!, ctx);
        return { message: entry!.messages.join(","), index: entry!.messages.length };
      },
      async *bidi(reqs, ctx) {
        let entry: AttemptRecord | undefined;
        let i = 0;
        for await (const req of reqs) {
          entry ??= record(req.message, ctx);
          entry.messages.push(req.message);
          // Fails on the first message, before any response: nothing is committed yet.
          maybeFail(entry.messages[0]!, req, ctx);
          yield { message: req.message, index: i++ };
        }
      },
    }),
  );
});

const channels: Channel[] = [];
after(async () => {
  for (const channel of channels) channel.close();
  await server.close();
});
beforeEach(() => {
  failFirst = 2;
  headersBeforeFailing = false;
});

interface RetryPolicyInit {
  maxAttempts?: number;
  retryableStatusCodes?: (string | number)[];
  initialBackoff?: string;
}

function retryConfig(policy: RetryPolicyInit = {}, extra: object = {}): object {
  return {
    methodConfig: [{
      name: [{ service }],
      retryPolicy: { maxAttempts: 3, initialBackoff: "0.01s", maxBackoff: "0.05s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE"], ...policy },
    }],
    ...extra,
  };
}

function open(serviceConfig: object | undefined, options: ChannelOptions = {}, target = server.target): Channel {
  const channel = createChannel(target, undefined, { transport: testTransport, serviceConfig, ...options });
  channels.push(channel);
  return channel;
}

let nextId = 0;
const uniqueKey = (what: string) => `${what} #${++nextId}`;
const previousOf = (key: string) => attempts.get(key)?.map((a) => a.previous);

test("a call the server fails twice with UNAVAILABLE succeeds under a retryPolicy of 3 attempts", async () => {
  const client = createClient(Echo, open(retryConfig()));
  const key = uniqueKey("flaky");
  assert.equal((await client.unary({ message: key }, { timeoutMs: 5_000 })).message, key);
  // grpc-previous-rpc-attempts: absent on the first attempt, then 1 and 2.
  assert.deepEqual(previousOf(key), [undefined, "1", "2"]);
});

test("the same call fails UNAVAILABLE after one attempt without a retryPolicy, or with retries turned off", async () => {
  for (const channel of [open(undefined), open(retryConfig(), { retries: false })]) {
    const key = uniqueKey("no policy");
    await assert.rejects(createClient(Echo, channel).unary({ message: key }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
    assert.deepEqual(previousOf(key), [undefined]);
  }
});

test("stops after maxAttempts, and maxAttempts above 5 counts as 5", async () => {
  failFirst = 100;
  const three = uniqueKey("three");
  await assert.rejects(createClient(Echo, open(retryConfig())).unary({ message: three }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
  assert.equal(attempts.get(three)?.length, 3);
  const capped = uniqueKey("capped");
  await assert.rejects(createClient(Echo, open(retryConfig({ maxAttempts: 10 }))).unary({ message: capped }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
  assert.deepEqual(previousOf(capped), [undefined, "1", "2", "3", "4"]);
});

test("does not retry a status that is not in retryableStatusCodes", async () => {
  const client = createClient(Echo, open(retryConfig()));
  const key = uniqueKey("internal");
  await assert.rejects(client.unary({ message: key, failCode: Code.INTERNAL }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.INTERNAL);
  assert.equal(attempts.get(key)?.length, 1);
  // Listed codes are retried, by name in any case or by number.
  const listed = createClient(Echo, open(retryConfig({ retryableStatusCodes: ["internal", Code.UNAVAILABLE] })));
  const retried = uniqueKey("internal listed");
  assert.equal((await listed.unary({ message: retried, failCode: Code.INTERNAL }, { timeoutMs: 5_000 })).message, retried);
  assert.equal(attempts.get(retried)?.length, 3);
});

test("waits a random backoff between attempts, uniform below the cap (full jitter)", async () => {
  failFirst = 100;
  const client = createClient(Echo, open({
    methodConfig: [{
      name: [{ service }],
      retryPolicy: { maxAttempts: 5, initialBackoff: "0.4s", maxBackoff: "0.4s", backoffMultiplier: 1, retryableStatusCodes: ["UNAVAILABLE"] },
    }],
  }));
  const key = uniqueKey("backoff");
  await assert.rejects(client.unary({ message: key }, { timeoutMs: 10_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
  const times = attempts.get(key)!.map((a) => a.at);
  const gaps = times.slice(1).map((t, i) => Math.round(t - times[i]!));
  assert.equal(gaps.length, 4);
  for (const gap of gaps) assert.ok(gap <= 400 + 300, `gap ${gap} ms above the 400 ms cap (gaps ${JSON.stringify(gaps)})`);
  // Four uniform draws in [0, 400] summing below 50 ms: about 1 in 100 000.
  assert.ok(gaps.reduce((a, b) => a + b, 0) >= 50, `the attempts should not follow each other at once: ${JSON.stringify(gaps)}`);
});

test("does not retry once response headers arrived (the call is committed)", async () => {
  headersBeforeFailing = true;
  const client = createClient(Echo, open(retryConfig()));
  const key = uniqueKey("committed");
  await assert.rejects(client.unary({ message: key }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
  assert.equal(attempts.get(key)?.length, 1);
  // A server stream that already delivered messages is not replayed either; a slow
  // reader still gets every message that came before the error status.
  headersBeforeFailing = false;
  const streamKey = uniqueKey("stream committed");
  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const m of client.serverStream({ message: streamKey, count: 3 }, { timeoutMs: 5_000 })) {
        got.push(m.index);
        await sleep(30);
      }
    })(),
    (err: GrpcError) => err.code === Code.UNAVAILABLE,
  );
  assert.deepEqual(got, [0, 1, 2]);
  assert.equal(attempts.get(streamKey)?.length, 1);
});

test("a client stream is replayed in full to each new attempt", async () => {
  const client = createClient(Echo, open(retryConfig()));
  const key = uniqueKey("client stream");
  async function* requests() {
    for (const suffix of ["", " b", " c"]) {
      yield { message: `${key}${suffix}` };
      await sleep(20);
    }
  }
  const reply = await client.clientStream(requests(), { timeoutMs: 5_000 });
  assert.equal(reply.message, `${key},${key} b,${key} c`);
  assert.deepEqual(attempts.get(key)!.map((a) => a.messages.length), [3, 3, 3]);
  assert.deepEqual(previousOf(key), [undefined, "1", "2"]);
});

test("a bidi stream that fails before answering is retried with the messages sent so far", async () => {
  const client = createClient(Echo, open(retryConfig()));
  const key = uniqueKey("bidi");
  async function* requests() {
    yield { message: key };
    await sleep(200); // by now the first two attempts failed on this message
    yield { message: `${key} second` };
  }
  const replies: string[] = [];
  for await (const m of client.bidi(requests(), { timeoutMs: 5_000 })) replies.push(m.message);
  assert.deepEqual(replies, [key, `${key} second`]);
  assert.deepEqual(attempts.get(key)!.map((a) => a.messages), [[key], [key], [key, `${key} second`]]);
});

test("retry throttling: failures spend tokens until retries stop; successes earn them back", async () => {
  failFirst = 100;
  const channel = open(retryConfig({}, { retryThrottling: { maxTokens: 10, tokenRatio: 0.5 } }));
  const client = createClient(Echo, channel);
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) {
    const key = uniqueKey("throttled");
    await assert.rejects(client.unary({ message: key }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
    counts.push(attempts.get(key)!.length);
  }
  // 10 tokens; each failed attempt costs one; retries only while more than 5 remain.
  assert.deepEqual(counts, [3, 2, 1, 1]);
  const throttle = channel.retryThrottle()!;
  assert.equal(throttle.available, 3);
  failFirst = 0;
  for (let i = 0; i < 8; i++) await client.unary({ message: uniqueKey("earn") }, { timeoutMs: 5_000 });
  assert.equal(throttle.available, 7);
  failFirst = 100;
  const key = uniqueKey("retries again");
  await assert.rejects(client.unary({ message: key }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
  assert.equal(attempts.get(key)!.length, 2, "7 tokens: one failure leaves 6 (a retry), the next 5 (no more)");
});

test("retries go through the balancer: with round_robin a retry reaches another backend", async () => {
  failFirst = 0;
  let brokenCalls = 0;
  const broken = await startServer((s) =>
    s.add(Echo, {
      unary: async () => {
        brokenCalls++;
        throw new GrpcError(Code.UNAVAILABLE, "this backend is broken");
      },
    }),
  );
  try {
    const channel = open(retryConfig({ maxAttempts: 2 }), { loadBalancingPolicy: "round_robin" }, `ipv4:${server.target},${broken.target}`);
    const client = createClient(Echo, channel);
    // The picker alternates between the two READY backends: a call whose first attempt
    // lands on the broken one has its retry on the other.
    for (let i = 0; i < 20; i++) {
      const key = uniqueKey(`rr ${i}`);
      assert.equal((await client.unary({ message: key }, { timeoutMs: 5_000 })).message, key);
    }
    assert.ok(brokenCalls >= 5, `the broken backend should have taken first attempts, took ${brokenCalls}`);
  } finally {
    await broken.close();
  }
});

// ---- pushback and transparent retry: a raw HTTP/2 server ----

interface RawAttempt {
  readonly at: number;
  readonly previous: string | undefined;
}

/** A raw gRPC server for Echo.Unary; `answer` decides each stream's fate by its index. */
async function startScripted(answer: (index: number, stream: http2.ServerHttp2Stream, request: EchoRequest) => void): Promise<{ target: string; seen: RawAttempt[] }> {
  const seen: RawAttempt[] = [];
  const raw = await startRawServer((stream, headers) => {
    const index = seen.length;
    seen.push({ at: performance.now(), previous: headers["grpc-previous-rpc-attempts"] as string | undefined });
    void readRequestBody(stream).then((body) => {
      if (stream.destroyed) return;
      const [frame] = parseGrpcFrames(body);
      answer(index, stream, fromBinary(EchoRequestSchema, frame?.payload ?? new Uint8Array()));
    });
  });
  channelsCleanup.push(() => raw.close());
  return { target: raw.target, seen };
}
const channelsCleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of channelsCleanup) await close();
});

function ok(stream: http2.ServerHttp2Stream, message: string): void {
  void respondGrpc(stream, { body: [grpcFrame(toBinary(EchoResponseSchema, create(EchoResponseSchema, { message })))] });
}

function failTrailersOnly(stream: http2.ServerHttp2Stream, code: Code, extra: http2.OutgoingHttpHeaders = {}): void {
  stream.respond({ ":status": 200, "content-type": "application/grpc", "grpc-status": String(code), "grpc-message": "scripted failure", ...extra }, { endStream: true });
}

test("honours a grpc-retry-pushback-ms delay from the server", async () => {
  const scripted = await startScripted((index, stream, req) => {
    if (index === 0) failTrailersOnly(stream, Code.UNAVAILABLE, { "grpc-retry-pushback-ms": "400" });
    else ok(stream, req.message);
  });
  const client = createClient(Echo, open(retryConfig(), {}, scripted.target));
  assert.equal((await client.unary({ message: "pushed back" }, { timeoutMs: 5_000 })).message, "pushed back");
  assert.equal(scripted.seen.length, 2);
  const gap = scripted.seen[1]!.at - scripted.seen[0]!.at;
  // The policy's own backoff is at most 50 ms: the 400 ms come from the server.
  assert.ok(gap >= 390 && gap < 400 + 1_000, `the retry came ${gap.toFixed(0)} ms after the first attempt`);
  assert.equal(scripted.seen[1]!.previous, "1");
});

test("a grpc-ts handler can push back through its trailers, and the retry waits that long", async () => {
  const pushing = await startServer((srv) =>
    srv.add(Echo, {
      async unary(req, ctx) {
        const list = attempts.get(req.message) ?? [];
        list.push({ previous: ctx.requestMetadata.getString("grpc-previous-rpc-attempts"), at: performance.now(), messages: [] });
        attempts.set(req.message, list);
        if (list.length > 1) return { message: req.message };
        ctx.responseTrailer.set("grpc-retry-pushback-ms", "300");
        throw new GrpcError(Code.UNAVAILABLE, "busy: come back in 300 ms");
      },
    }),
  );
  try {
    const key = uniqueKey("handler pushback");
    const client = createClient(Echo, open(retryConfig(), {}, pushing.target));
    assert.equal((await client.unary({ message: key }, { timeoutMs: 5_000 })).message, key);
    const seen = attempts.get(key)!;
    assert.equal(seen.length, 2);
    const gap = seen[1]!.at - seen[0]!.at;
    assert.ok(gap >= 290, `the retry came ${gap.toFixed(0)} ms after the first attempt`);
  } finally {
    await pushing.close();
  }
});

test("stops retrying when the server's pushback is negative", async () => {
  const scripted = await startScripted((index, stream, req) => {
    if (index === 0) failTrailersOnly(stream, Code.UNAVAILABLE, { "grpc-retry-pushback-ms": "-1" });
    else ok(stream, req.message);
  });
  const client = createClient(Echo, open(retryConfig(), {}, scripted.target));
  await assert.rejects(client.unary({ message: "stop" }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE);
  await sleep(200);
  assert.equal(scripted.seen.length, 1);
});

test("replays a stream the server refused (REFUSED_STREAM) once, without a retry policy", async () => {
  const scripted = await startScripted((index, stream, req) => {
    if (index === 0) stream.close(NGHTTP2_REFUSED_STREAM);
    else ok(stream, req.message);
  });
  const client = createClient(Echo, open(undefined, {}, scripted.target));
  assert.equal((await client.unary({ message: "refused once" }, { timeoutMs: 5_000 })).message, "refused once");
  // Transparent: not counted as a retry attempt.
  assert.deepEqual(scripted.seen.map((s) => s.previous), [undefined, undefined]);
});

test("a transparent retry happens only once: a second REFUSED_STREAM fails the call UNAVAILABLE", async () => {
  const scripted = await startScripted((_index, stream) => stream.close(NGHTTP2_REFUSED_STREAM));
  const client = createClient(Echo, open(undefined, {}, scripted.target));
  await assert.rejects(client.unary({ message: "refused twice" }, { timeoutMs: 5_000 }), (err: GrpcError) => err.code === Code.UNAVAILABLE && /REFUSED_STREAM/.test(err.message));
  await sleep(100);
  assert.equal(scripted.seen.length, 2);
});
