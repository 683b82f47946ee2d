/**
 * Behind a real L7 proxy: nginx (Debian's package; scripts/ensure-nginx.sh installs it)
 * with grpc_pass to an upstream of three grpc-ts servers. Every call type, metadata
 * both ways, an error status with rich details (trailers-only and after messages) and
 * a deadline pass through it, and calls spread over the three backends. It runs once
 * with node:http2 on both sides and once with our own HTTP/2 transport on both sides.
 * Skips, saying why, where nginx is not installed.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Code, GrpcError, Metadata, Server, createChannel, createClient, credentials,
  type Channel, type Client, type ServiceImpl,
} from "../../src/index.js";
import { BadRequestSchema, ErrorInfoSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService } from "../helpers/server.js";
import { findNginx, startGrpcProxy, type RunningNginx } from "./nginx-process.js";

const nginx = findNginx();
const skip = typeof nginx === "string" ? nginx : false;
const timeoutMs = 10_000;
const traceBytes = new Uint8Array([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff]);

/** One upstream server: its name, and what it saw. */
interface Backend {
  readonly name: string;
  readonly server: Server;
  readonly port: number;
  /** Calls it served, of every kind. */
  calls: number;
  /** The deadline it saw on the last "deadline" call: ms left when the handler started. */
  deadlineLeftMs: number | undefined;
}

/**
 * The Echo service, plus: each response header names the backend; a request tag and a
 * -bin value are echoed back in the response header and trailer; "rich" fails with
 * details; "deadline" records the deadline it saw and waits for it to pass.
 */
function backendService(backend: Backend): ServiceImpl<typeof Echo> {
  const mark = (ctx: { responseHeader: Metadata; responseTrailer: Metadata; requestMetadata: Metadata }) => {
    backend.calls++;
    ctx.responseHeader.set("x-backend", backend.name);
    const tag = ctx.requestMetadata.getString("x-request-tag");
    if (tag !== undefined) ctx.responseHeader.set("x-echo-tag", tag);
    const trace = ctx.requestMetadata.getBinary("x-trace-bin");
    if (trace !== undefined) ctx.responseTrailer.set("x-echo-trace-bin", trace);
  };
  return {
    async unary(req, ctx) {
      mark(ctx);
      if (req.message === "rich") {
        throw new GrpcError(Code.INVALID_ARGUMENT, "the request has 1 invalid field", {
          metadata: new Metadata({ "x-request-id": "req-7" }),
          details: [
            { desc: BadRequestSchema, value: { fieldViolations: [{ field: "message", description: "must not be rich" }] } },
            { desc: ErrorInfoSchema, value: { reason: "TOO_RICH", domain: "echo.grpcts.test" } },
          ],
        });
      }
      if (req.message === "deadline") {
        backend.deadlineLeftMs = ctx.deadline === undefined ? undefined : ctx.deadline - Date.now();
        await sleep(timeoutMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      }
      return echoService.unary!(req, ctx);
    },
    serverStream(req, ctx) {
      mark(ctx);
      return echoService.serverStream!(req, ctx);
    },
    clientStream(reqs, ctx) {
      mark(ctx);
      return echoService.clientStream!(reqs, ctx);
    },
    bidi(reqs, ctx) {
      mark(ctx);
      return echoService.bidi!(reqs, ctx);
    },
  };
}

async function rejection(promise: Promise<unknown>): Promise<GrpcError> {
  const error = await promise.then(() => assert.fail("the call succeeded"), (err: unknown) => err);
  assert.ok(error instanceof GrpcError, `expected a GrpcError, got ${String(error)}`);
  return error;
}

for (const transport of ["node-http2", "h2"] as const) {
  describe(`through nginx grpc_pass, ${transport} on both sides`, { skip }, () => {
    const backends: Backend[] = [];
    let proxy: RunningNginx;
    let channel: Channel;
    let client: Client<typeof Echo>;

    before(async () => {
      for (const name of ["b1", "b2", "b3"]) {
        const server = new Server({ transport });
        const bound = await server.listen("127.0.0.1:0");
        if (!("port" in bound)) throw new Error("expected a TCP address");
        const backend: Backend = { name, server, port: bound.port, calls: 0, deadlineLeftMs: undefined };
        server.add(Echo, backendService(backend));
        backends.push(backend);
      }
      proxy = await startGrpcProxy(nginx as Exclude<typeof nginx, string>, backends.map((b) => b.port));
      channel = createChannel(`127.0.0.1:${proxy.port}`, credentials.insecure(), { transport, httpProxy: false });
      client = createClient(Echo, channel);
    });

    after(async () => {
      channel?.close();
      await proxy?.stop();
      for (const { server } of backends) {
        server.forceShutdown();
        await server.shutdown({ graceMs: 0 });
      }
    });

    /** Runs `check`, adding nginx's error log to its failure. */
    async function withLog(check: () => Promise<void>): Promise<void> {
      try {
        await check();
      } catch (err) {
        if (err instanceof Error) err.message += `\n--- nginx error log ---\n${await proxy.errorLog()}`;
        throw err;
      }
    }

    test("a unary call passes with metadata both ways: request tag and -bin values out, response header and trailer back", () => withLog(async () => {
      let header: Metadata | undefined;
      let trailer: Metadata | undefined;
      const res = await client.unary({ message: "hello", payload: traceBytes }, {
        timeoutMs,
        metadata: new Metadata({ "x-request-tag": "tag-1", "x-trace-bin": traceBytes }),
        onHeader: (h) => (header = h),
        onTrailer: (t) => (trailer = t),
      });
      assert.equal(res.message, "hello");
      assert.deepEqual([...res.payload], [...traceBytes]);
      assert.equal(header?.getString("x-echo-tag"), "tag-1");
      assert.match(header?.getString("x-backend") ?? "", /^b[123]$/);
      assert.deepEqual([...(trailer?.getBinary("x-echo-trace-bin") ?? [])], [...traceBytes]);
    }));

    test("a server stream passes every message in order", () => withLog(async () => {
      const got: [number, string][] = [];
      for await (const res of client.serverStream({ message: "tick", count: 20 }, { timeoutMs })) got.push([res.index, res.message]);
      assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => [i, "tick"]));
    }));

    test("a client stream passes every request, and a large one, to one backend", () => withLog(async () => {
      const big = "x".repeat(200_000);
      async function* requests() {
        for (const message of ["a", "b", big, "c"]) yield { message };
      }
      const res = await client.clientStream(requests(), { timeoutMs });
      assert.equal(res.index, 4);
      assert.equal(res.message, `a,b,${big},c`);
    }));

    test("a bidi stream is really bidirectional: each request is sent only after the previous reply arrived", () => withLog(async () => {
      const words = ["ping", "pong", "pang", "pung"];
      let replies = 0;
      let wake: (() => void) | undefined;
      async function* requests() {
        for (let i = 0; i < words.length; i++) {
          yield { message: words[i]! };
          // nginx must forward this request before the client half-closes, or this waits forever (and the deadline fails the test).
          while (replies <= i) await new Promise<void>((resolve) => (wake = resolve));
        }
      }
      const got: string[] = [];
      for await (const res of client.bidi(requests(), { timeoutMs })) {
        got.push(res.message);
        replies++;
        wake?.();
      }
      assert.deepEqual(got, words);
    }));

    test("an error status passes with its code, message, metadata and rich details (trailers-only)", () => withLog(async () => {
      const err = await rejection(client.unary({ message: "rich" }, { timeoutMs }));
      assert.equal(err.code, Code.INVALID_ARGUMENT);
      assert.equal(err.rawMessage, "the request has 1 invalid field");
      assert.equal(err.metadata.getString("x-request-id"), "req-7");
      assert.deepEqual(err.findDetails(BadRequestSchema)[0]?.fieldViolations.map((v) => [v.field, v.description]), [["message", "must not be rich"]]);
      assert.equal(err.findDetails(ErrorInfoSchema)[0]?.reason, "TOO_RICH");
    }));

    test("an error status after streamed messages passes in the trailers", () => withLog(async () => {
      const got: number[] = [];
      const err = await rejection((async () => {
        for await (const res of client.serverStream({ message: "m", count: 3, failCode: Code.RESOURCE_EXHAUSTED, failMessage: "quota: 3 of 3 used" }, { timeoutMs })) got.push(res.index);
      })());
      assert.deepEqual(got, [0, 1, 2]);
      assert.equal(err.code, Code.RESOURCE_EXHAUSTED);
      assert.equal(err.rawMessage, "quota: 3 of 3 used");
    }));

    test("a deadline reaches the backend through grpc-timeout, and the call fails DEADLINE_EXCEEDED", () => withLog(async () => {
      for (const backend of backends) backend.deadlineLeftMs = undefined;
      const started = Date.now();
      const err = await rejection(client.unary({ message: "deadline" }, { timeoutMs: 1_000 }));
      assert.equal(err.code, Code.DEADLINE_EXCEEDED);
      assert.ok(Date.now() - started < timeoutMs, "the call ended at its deadline, not when the handler gave up");
      const seen = backends.map((b) => b.deadlineLeftMs).filter((ms) => ms !== undefined);
      assert.equal(seen.length, 1, "exactly one backend served the call");
      assert.ok(seen[0]! > 0 && seen[0]! <= 1_000, `the backend saw ${seen[0]} ms left of a 1000 ms deadline`);
    }));

    test("calls spread over the three backends", () => withLog(async () => {
      const before = backends.map((b) => b.calls);
      const servedBy: string[] = [];
      for (let i = 0; i < 9; i++) {
        await client.unary({ message: `call ${i}` }, { timeoutMs, onHeader: (h) => servedBy.push(h.getString("x-backend") ?? "?") });
      }
      const counts = backends.map((b, i) => b.calls - before[i]!);
      assert.equal(counts.reduce((a, b) => a + b, 0), 9, `per backend: ${counts.join(", ")}`);
      for (const [i, count] of counts.entries()) assert.ok(count >= 1, `backend b${i + 1} served none of 9 calls (per backend: ${counts.join(", ")})`);
      assert.deepEqual(new Set(servedBy), new Set(["b1", "b2", "b3"]));
    }));
  });
}
