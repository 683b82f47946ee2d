/**
 * Server lifecycle: listening (TCP with a free port, unix sockets, TLS), graceful
 * shutdown (no new connections, GOAWAY refuses new calls on open connections with
 * UNAVAILABLE, running calls finish, stragglers are cancelled when the grace period
 * ends), forceShutdown, and a process that exits by itself once shutdown resolves.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import {
  Code, GrpcError, Server, createChannel, createClient, credentials, serverCredentials,
  type Channel, type ChannelCredentials, type HandlerContext, type ServerCredentials, type ServiceImpl,
} from "../src/index.js";
import { Echo } from "./gen/echo_pb.js";
import { createTestPki, type TestPki } from "./helpers/certs.js";
import { echoService } from "./helpers/server.js";

/** A promise with its resolve function outside (Promise.withResolvers needs Node 22). */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function collect<T>(messages: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const m of messages) out.push(m);
  return out;
}

/** Resolves with the GrpcError `promise` rejects with; fails the test if it resolves. */
async function grpcErrorOf(promise: Promise<unknown>): Promise<GrpcError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the call to fail");
}

/** The Echo service, counting handler starts so a test can wait until its calls run on the server. */
function trackedEcho() {
  let started = 0;
  let wake: (() => void) | undefined;
  const onStart = () => {
    started++;
    wake?.();
  };
  const impl: ServiceImpl<typeof Echo> = {
    unary: (req, ctx) => (onStart(), echoService.unary(req, ctx)),
    serverStream: (req, ctx) => (onStart(), echoService.serverStream(req, ctx)),
    clientStream: (reqs, ctx) => (onStart(), echoService.clientStream(reqs, ctx)),
    bidi: (reqs, ctx) => (onStart(), echoService.bidi(reqs, ctx)),
  };
  /** Resolves once `count` handlers have started in all. */
  async function running(count: number): Promise<void> {
    while (started < count) await new Promise<void>((resolve) => (wake = resolve));
  }
  return { impl, started: () => started, running };
}

/** Handlers that run until their call is cancelled, reporting that they started and how they ended. */
function untilCancelled() {
  const started = new Map<string, ReturnType<typeof deferred<void>>>();
  const aborted = new Map<string, ReturnType<typeof deferred<unknown>>>();
  for (const kind of ["unary", "serverStream", "bidi"]) {
    started.set(kind, deferred<void>());
    aborted.set(kind, deferred<unknown>());
  }
  const wait = async (kind: string, ctx: HandlerContext) => {
    started.get(kind)!.resolve();
    await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
    aborted.get(kind)!.resolve(ctx.signal.reason);
  };
  const impl: Partial<ServiceImpl<typeof Echo>> = {
    async unary(_req, ctx) {
      await wait("unary", ctx);
      return { message: "too late" };
    },
    async *serverStream(_req, ctx) {
      yield { message: "first" };
      await wait("serverStream", ctx);
    },
    async *bidi(_reqs, ctx) {
      yield { message: "first" };
      await wait("bidi", ctx);
    },
  };
  return { impl, started: (kind: string) => started.get(kind)!.promise, aborted: (kind: string) => aborted.get(kind)!.promise };
}

/** Starts a server with `impl` on `address`; the returned target reaches it. */
async function listen(impl: Partial<ServiceImpl<typeof Echo>>, address = "127.0.0.1:0", creds?: ServerCredentials) {
  const server = new Server();
  server.add(Echo, impl);
  const bound = await server.listen(address, creds);
  const target = "path" in bound ? `unix:${bound.path}` : `127.0.0.1:${bound.port}`;
  return { server, bound, target };
}

function connectRaw(port: number): Promise<"connected" | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

let tmp: string;
let pki: TestPki;
before(async () => {
  tmp = await mkdtemp(join(tmpdir(), "grpc-ts-lifecycle-"));
  pki = await createTestPki();
});
after(async () => {
  if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
});

describe("listen", () => {
  test("port 0 resolves with the free port the system picked, and calls reach it", async () => {
    const { server, bound, target } = await listen(echoService);
    const channel = createChannel(target);
    try {
      assert.ok("port" in bound);
      assert.equal(bound.host, "127.0.0.1");
      assert.ok(bound.port > 0 && bound.port <= 65535, `port ${bound.port}`);
      assert.equal((await createClient(Echo, channel).unary({ message: "tcp" })).message, "tcp");
    } finally {
      channel.close();
      await server.shutdown();
    }
  });

  test("a port already in use rejects listen with EADDRINUSE", async () => {
    const first = await listen(echoService);
    const second = new Server().add(Echo, echoService);
    try {
      assert.ok("port" in first.bound);
      await assert.rejects(second.listen(`127.0.0.1:${first.bound.port}`), { code: "EADDRINUSE" });
    } finally {
      await second.shutdown();
      await first.server.shutdown();
    }
  });

  test("a unix socket serves a client with target unix:/path, and the path is free again after shutdown", async () => {
    const path = join(tmp, "echo.sock");
    const impl: Partial<ServiceImpl<typeof Echo>> = { unary: (req, ctx) => ({ message: `${req.message} from ${ctx.peer.address}` }) };
    const { server, bound, target } = await listen(impl, `unix:${path}`);
    const channel = createChannel(target);
    try {
      assert.deepEqual(bound, { path });
      assert.equal(target, `unix:${path}`);
      const res = await createClient(Echo, channel).unary({ message: "hello" });
      assert.match(res.message, /^hello from unix:/);
    } finally {
      channel.close();
      await server.shutdown();
    }
    assert.equal(existsSync(path), false, "the socket file is removed on shutdown");
    const again = await listen(echoService, `unix:${path}`);
    await again.server.shutdown();
  });

  test("a TLS listener serves TLS clients", async () => {
    const { server, target } = await listen(echoService, "127.0.0.1:0", serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert }));
    const channel = createChannel(target, credentials.tls({ ca: pki.ca.cert }));
    try {
      assert.equal((await createClient(Echo, channel).unary({ message: "tls" })).message, "tls");
    } finally {
      channel.close();
      await server.shutdown();
    }
  });

  test("listen after shutdown rejects", async () => {
    const server = new Server().add(Echo, echoService);
    await server.shutdown();
    await assert.rejects(server.listen("127.0.0.1:0"), /shut down/);
  });
});

describe("graceful shutdown", () => {
  const listeners: Array<{ name: string; address: () => string; server: () => ServerCredentials | undefined; channel: () => ChannelCredentials }> = [
    { name: "TCP", address: () => "127.0.0.1:0", server: () => undefined, channel: () => credentials.insecure() },
    { name: "a unix socket", address: () => `unix:${join(tmp, "graceful.sock")}`, server: () => undefined, channel: () => credentials.insecure() },
    {
      name: "TLS",
      address: () => "127.0.0.1:0",
      server: () => serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert }),
      channel: () => credentials.tls({ ca: pki.ca.cert }),
    },
  ];

  for (const kind of listeners) {
    test(`on ${kind.name}: running calls finish OK, then shutdown resolves`, async () => {
      const echo = trackedEcho();
      const { server, target } = await listen(echo.impl, kind.address(), kind.server());
      const channel = createChannel(target, kind.channel());
      const client = createClient(Echo, channel);
      const events: string[] = [];
      try {
        await client.unary({ message: "warm-up" });
        const unary = client.unary({ message: "slow", delayMs: 300 }).then((res) => (events.push("unary done"), res));
        const stream = collect(client.serverStream({ message: "s", count: 4, delayMs: 60 })).then((res) => (events.push("stream done"), res));
        await echo.running(3);
        const shutdown = server.shutdown({ graceMs: 30_000 }).then(() => events.push("shutdown resolved"));
        assert.equal((await unary).message, "slow");
        assert.deepEqual((await stream).map((r) => r.index), [0, 1, 2, 3]);
        await shutdown;
        assert.equal(events.at(-1), "shutdown resolved");
        assert.deepEqual(events.slice(0, 2).sort(), ["stream done", "unary done"]);
      } finally {
        channel.close();
        server.forceShutdown();
      }
    });
  }

  test("refuses new connections while running calls finish", async () => {
    const echo = trackedEcho();
    const { server, bound, target } = await listen(echo.impl);
    assert.ok("port" in bound);
    const channel = createChannel(target);
    const client = createClient(Echo, channel);
    try {
      const running = client.unary({ message: "slow", delayMs: 500 });
      await echo.running(1);
      const shutdown = server.shutdown({ graceMs: 30_000 });
      assert.equal(await connectRaw(bound.port), "ECONNREFUSED");
      const fresh = createChannel(target);
      try {
        const err = await grpcErrorOf(createClient(Echo, fresh).unary({ message: "new" }));
        assert.equal(err.code, Code.UNAVAILABLE);
      } finally {
        fresh.close();
      }
      assert.equal((await running).message, "slow");
      await shutdown;
    } finally {
      channel.close();
      server.forceShutdown();
    }
  });

  test("new calls on a connection that is draining fail with UNAVAILABLE and never reach a handler", async () => {
    const echo = trackedEcho();
    const { server, target } = await listen(echo.impl);
    const channel = createChannel(target);
    const client = createClient(Echo, channel);
    try {
      const running = client.unary({ message: "slow", delayMs: 500 });
      await echo.running(1);
      const shutdown = server.shutdown({ graceMs: 30_000 });
      // Sent in the same tick as shutdown starts, before the client can have seen GOAWAY:
      // this stream arrives on the draining connection.
      const raced = await grpcErrorOf(client.unary({ message: "raced" }));
      assert.equal(raced.code, Code.UNAVAILABLE);
      // The refusal came after the GOAWAY on that connection, so this call is made after
      // the client saw GOAWAY: it opens no new stream on the draining connection.
      const refused = await grpcErrorOf(client.unary({ message: "after goaway" }));
      assert.equal(refused.code, Code.UNAVAILABLE);
      // It failed connecting anew (the listener is closed), not on the draining connection.
      assert.match(refused.message, /ECONNREFUSED/);
      assert.equal((await running).message, "slow");
      assert.equal(echo.started(), 1);
      await shutdown;
    } finally {
      channel.close();
      server.forceShutdown();
    }
  });

  test("cancels the calls still running when the grace period ends", async () => {
    const handlers = untilCancelled();
    const { server, target } = await listen(handlers.impl);
    const channel = createChannel(target);
    const client = createClient(Echo, channel);
    try {
      const call = grpcErrorOf(client.unary({ message: "forever" }));
      await handlers.started("unary");
      const start = performance.now();
      await server.shutdown({ graceMs: 200 });
      const waited = performance.now() - start;
      const reason = await handlers.aborted("unary");
      assert.ok(reason instanceof GrpcError && reason.code === Code.CANCELLED, `handler's abort reason: ${String(reason)}`);
      const err = await call;
      assert.ok([Code.CANCELLED, Code.UNAVAILABLE].includes(err.code), `client saw ${err.message}`);
      assert.ok(waited >= 150, `shutdown resolved after ${waited} ms, before the 200 ms grace period ended`);
    } finally {
      channel.close();
      server.forceShutdown();
    }
  });

  test("shutdown() without a grace period waits for running calls, and idle connections do not hold it", async () => {
    const echo = trackedEcho();
    const { server, target } = await listen(echo.impl);
    const idle = createChannel(target);
    const busy = createChannel(target);
    try {
      await createClient(Echo, idle).unary({ message: "connect" });
      const running = createClient(Echo, busy).unary({ message: "slow", delayMs: 300 });
      await echo.running(2);
      const events: string[] = [];
      const shutdown = server.shutdown().then(() => events.push("shutdown resolved"));
      const done = running.then((res) => (events.push("call done"), res));
      assert.equal((await done).message, "slow");
      await shutdown;
      assert.deepEqual(events, ["call done", "shutdown resolved"]);
    } finally {
      idle.close();
      busy.close();
      server.forceShutdown();
    }
  });
});

describe("connections that never speak HTTP/2", () => {
  for (const tls of [false, true]) {
    const name = tls ? "a TLS connection stuck before its handshake" : "a TCP connection that never sends the preface";
    for (const mode of ["shutdown({ graceMs })", "forceShutdown()"] as const) {
      test(`${name} does not hold ${mode}`, async () => {
        const creds = tls ? serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert }) : undefined;
        const { server, bound } = await listen(echoService, "127.0.0.1:0", creds);
        assert.ok("port" in bound);
        const socket = net.connect({ host: "127.0.0.1", port: bound.port });
        socket.on("error", () => undefined);
        try {
          await new Promise((resolve) => socket.once("connect", resolve));
          await sleep(20);
          const start = performance.now();
          if (mode === "forceShutdown()") {
            server.forceShutdown();
            await server.shutdown();
          } else {
            await server.shutdown({ graceMs: 100 });
          }
          // Without the fix this waited for the peer (forever) or the 120 s TLS handshake timeout.
          const waited = performance.now() - start;
          assert.ok(waited < 10_000, `shutdown took ${waited} ms`);
        } finally {
          socket.destroy();
          server.forceShutdown();
        }
      });
    }
  }
});

describe("forceShutdown", () => {
  test("cancels running calls of every kind at once: handlers see their signal abort, clients get CANCELLED or UNAVAILABLE", async () => {
    const handlers = untilCancelled();
    const { server, target } = await listen(handlers.impl);
    const channel = createChannel(target);
    const client = createClient(Echo, channel);
    const requestsDone = new AbortController();
    try {
      const unary = grpcErrorOf(client.unary({}));
      const serverStream = grpcErrorOf(collect(client.serverStream({})));
      const bidi = grpcErrorOf(collect(client.bidi((async function* () {
        yield { message: "one" };
        await sleep(60_000, undefined, { signal: requestsDone.signal }).catch(() => undefined);
      })())));
      await Promise.all(["unary", "serverStream", "bidi"].map((kind) => handlers.started(kind)));
      server.forceShutdown();
      for (const kind of ["unary", "serverStream", "bidi"]) {
        const reason = await handlers.aborted(kind);
        assert.ok(reason instanceof GrpcError && reason.code === Code.CANCELLED, `${kind} handler's abort reason: ${String(reason)}`);
      }
      for (const [kind, call] of [["unary", unary], ["serverStream", serverStream], ["bidi", bidi]] as const) {
        const err = await call;
        assert.ok([Code.CANCELLED, Code.UNAVAILABLE].includes(err.code), `${kind} client saw ${err.message}`);
      }
      await server.shutdown();
    } finally {
      requestsDone.abort();
      channel.close();
    }
  });
});

describe("process exit", () => {
  test("once shutdown resolves, a process that served calls exits by itself", async () => {
    const indexUrl = new URL("../src/index.ts", import.meta.url).href;
    const echoUrl = new URL("./gen/echo_pb.ts", import.meta.url).href;
    // Plain JavaScript: tsx loads the TypeScript modules it imports. The channel is left
    // open and nothing calls process.exit: whatever shutdown leaves behind keeps the process alive.
    const script = `
      const { Server, createChannel, createClient } = await import(${JSON.stringify(indexUrl)});
      const { Echo } = await import(${JSON.stringify(echoUrl)});
      const server = new Server().add(Echo, {
        unary: (req) => ({ message: req.message }),
        async *serverStream(req) {
          for (let i = 0; i < req.count; i++) {
            await new Promise((resolve) => setTimeout(resolve, 50));
            yield { index: i };
          }
        },
      });
      const address = await server.listen("127.0.0.1:0");
      const client = createClient(Echo, createChannel("127.0.0.1:" + address.port));
      const first = await client.unary({ message: "ping" });
      const streamed = (async () => { let n = 0; for await (const _ of client.serverStream({ count: 3 })) n++; return n; })();
      await new Promise((resolve) => setTimeout(resolve, 20));
      await server.shutdown({ graceMs: 10000 });
      console.log(JSON.stringify({ first: first.message, streamed: await streamed }));
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "--eval", script], {
      cwd: new URL("..", import.meta.url),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = new Promise<"timed out">((resolve) => (timer = setTimeout(() => resolve("timed out"), 30_000)));
    try {
      const outcome = await Promise.race([exited, timedOut]);
      assert.equal(outcome, 0, `the child did not exit cleanly by itself (${String(outcome)}); stderr: ${stderr}`);
      assert.deepEqual(JSON.parse(stdout.trim()), { first: "ping", streamed: 3 });
    } finally {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill();
    }
  });
});
