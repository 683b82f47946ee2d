/**
 * Connection and stream lifecycle of the h2 transport: two-phase GOAWAY on server
 * close, resets in both directions, the client's queue behind MAX_CONCURRENT_STREAMS,
 * a lost connection, TLS with ALPN h2, and unix sockets.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { after, before, describe, test } from "node:test";
import { Http2ErrorCode } from "../../src/protocol/http2/constants.js";
import { FrameWriter } from "../../src/protocol/http2/frame-writer.js";
import { H2ClientTransport, type H2ConnectOptions } from "../../src/transport/h2/client.js";
import { listenH2, type H2ServerOptions, type ListenTarget } from "../../src/transport/h2/server.js";
import type { ClientTransport, Headers, PeerInfo, ServerTransportStream, TransportServer } from "../../src/transport/types.js";
import { createTestPki, type TestPki } from "../helpers/certs.js";
import { FrameClient, requestHeaders } from "../h2-conformance/frame-client.js";

interface Held {
  stream: ServerTransportStream;
  aborted: Promise<string>;
}

/** A server whose "/hold" streams wait for the test; other paths answer at once with the peer address. */
async function startServer(options: H2ServerOptions = {}, target: ListenTarget = { host: "127.0.0.1", port: 0 }) {
  const held: Held[] = [];
  const heldWaiters: ((h: Held) => void)[] = [];
  let active = 0;
  let peakActive = 0;
  let peer: PeerInfo | undefined;
  const server = await listenH2(target, options, (stream) => {
    const path = String(stream.headers[":path"]);
    active++;
    peakActive = Math.max(peakActive, active);
    let onAborted: (reason: string) => void = () => undefined;
    const aborted = new Promise<string>((resolve) => (onAborted = resolve));
    const done = () => active--;
    stream.attach({
      onData: () => undefined,
      onEnd: () => {
        if (path.startsWith("/hold")) {
          const h = { stream, aborted };
          const waiter = heldWaiters.shift();
          if (waiter !== undefined) waiter(h);
          else held.push(h);
          return;
        }
        peer = stream.peer;
        const respond = () => {
          stream.sendHeaders({ ":status": "200" });
          stream.write(new TextEncoder().encode(path));
          stream.sendTrailers({ "x-peer": stream.peer.address });
          done();
        };
        if (path.startsWith("/slow")) setTimeout(respond, 30);
        else respond();
      },
      onAbort: (reason) => {
        done();
        onAborted(reason);
      },
      onDrain: () => undefined,
    });
  });
  return {
    server,
    port: "port" in server.address ? server.address.port : 0,
    nextHeld: () => new Promise<Held>((resolve) => {
      const h = held.shift();
      if (h !== undefined) resolve(h);
      else heldWaiters.push(resolve);
    }),
    peak: () => peakActive,
    lastPeer: () => peer,
  };
}

interface Result {
  headers: Headers | undefined;
  body: string;
  trailers: Headers | undefined;
  rstCode: number;
  error: Error | undefined;
}

function call(transport: ClientTransport, path: string, onStream?: (s: ReturnType<ClientTransport["request"]>) => void): Promise<Result> {
  return new Promise((resolve) => {
    let headers: Headers | undefined;
    let trailers: Headers | undefined;
    let body = "";
    const stream = transport.request({ ":method": "POST", ":scheme": "http", ":authority": "localhost", ":path": path }, {
      onHeaders: (h) => (headers = h),
      onData: (c) => (body += new TextDecoder().decode(c)),
      onTrailers: (t) => (trailers = t),
      onClose: (rstCode, error) => resolve({ headers, body, trailers, rstCode, error }),
      onDrain: () => undefined,
    });
    stream.end();
    onStream?.(stream);
  });
}

describe("h2 server close: two-phase GOAWAY", () => {
  test("first GOAWAY(2^31-1) with a PING, then GOAWAY(last stream) once the PING returns; streams in between are served", async () => {
    const s = await startServer();
    const client = await FrameClient.connect(s.port);
    try {
      client.sendHeaders(1, requestHeaders("/hold"), true);
      const held = await s.nextHeld();
      s.server.close();
      const first = await client.waitFor((f) => (f.type === "GOAWAY" ? f : undefined));
      assert.equal(first?.lastStreamId, 2 ** 31 - 1);
      assert.equal(first?.errorCode, Http2ErrorCode.NO_ERROR);
      const ping = await client.waitFor((f) => (f.type === "PING" && !f.ack ? f : undefined));
      assert.ok(ping !== undefined, "a PING follows the first GOAWAY");
      // Opened while the first GOAWAY was in flight: still served.
      client.sendHeaders(3, requestHeaders("/in-between"), true);
      const res = await client.response(3);
      assert.ok(res.ended);
      client.send((w) => w.ping(ping.opaqueData, true));
      const second = await client.waitFor((f) => (f.type === "GOAWAY" ? f : undefined));
      assert.equal(second?.lastStreamId, 3);
      // After the final GOAWAY new streams are ignored.
      client.sendHeaders(5, requestHeaders("/too-late"), true);
      const late = await client.waitFor((f) => ("streamId" in f && f.streamId === 5 ? f : undefined), 300);
      assert.equal(late, undefined);
      // The held stream still finishes; then the connection closes.
      held.stream.sendHeaders({ ":status": "200" });
      held.stream.sendTrailers({});
      await s.server.closed();
      const closed = await client.waitFor(() => undefined, 2000);
      assert.equal(closed, undefined);
      assert.equal(client.closed, true);
    } finally {
      client.close();
      s.server.destroy();
    }
  });

  test("our client stops using a connection that got GOAWAY; calls in flight finish", async () => {
    const s = await startServer();
    const transport = new H2ClientTransport({ address: { host: "127.0.0.1", port: s.port } });
    try {
      const inFlight = call(transport, "/hold");
      const held = await s.nextHeld();
      assert.equal(transport.usable, true);
      s.server.close();
      for (let i = 0; i < 100 && transport.usable; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.equal(transport.usable, false);
      const refused = await call(transport, "/new");
      assert.equal(refused.rstCode, Http2ErrorCode.REFUSED_STREAM);
      held.stream.sendHeaders({ ":status": "200" });
      held.stream.write(new TextEncoder().encode("done"));
      held.stream.sendTrailers({ "x-ok": "1" });
      const res = await inFlight;
      assert.equal(res.body, "done");
      assert.equal(res.trailers?.["x-ok"], "1");
      assert.equal(res.rstCode, 0);
      await s.server.closed();
    } finally {
      transport.destroy();
      s.server.destroy();
    }
  });
});

describe("h2 resets and lost connections", () => {
  let s: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    s.server.destroy();
    await s.server.closed();
  });

  test("a client reset reaches the server handler as an abort", async () => {
    const transport = new H2ClientTransport({ address: { host: "127.0.0.1", port: s.port } });
    try {
      let stream: ReturnType<ClientTransport["request"]> | undefined;
      const result = call(transport, "/hold", (st) => (stream = st));
      const held = await s.nextHeld();
      stream!.reset(Http2ErrorCode.CANCEL);
      const reason = await held.aborted;
      assert.match(reason, /RST_STREAM code 8/);
      assert.equal((await result).rstCode, Http2ErrorCode.CANCEL);
    } finally {
      transport.close();
    }
  });

  test("a server reset reaches the client with its code", async () => {
    const transport = new H2ClientTransport({ address: { host: "127.0.0.1", port: s.port } });
    try {
      const result = call(transport, "/hold");
      const held = await s.nextHeld();
      held.stream.reset(Http2ErrorCode.ENHANCE_YOUR_CALM);
      const res = await result;
      assert.equal(res.rstCode, Http2ErrorCode.ENHANCE_YOUR_CALM);
      assert.equal(res.error, undefined);
    } finally {
      transport.close();
    }
  });

  test("a destroyed client connection aborts the server's streams, and the client's get an error", async () => {
    const transport = new H2ClientTransport({ address: { host: "127.0.0.1", port: s.port } });
    const result = call(transport, "/hold");
    const held = await s.nextHeld();
    transport.destroy();
    const res = await result;
    assert.ok(res.error instanceof Error);
    assert.ok((await held.aborted).length > 0, "the handler learns why");
  });

  test("a request to a port nobody listens on fails with an error", async () => {
    const transport = new H2ClientTransport({ address: { host: "127.0.0.1", port: 1 } });
    const res = await call(transport, "/x");
    assert.ok(res.error instanceof Error);
    assert.equal(transport.usable, false);
  });
});

describe("h2 client queue behind MAX_CONCURRENT_STREAMS", () => {
  test("requests beyond the server's limit wait for a free stream and all complete", async () => {
    const s = await startServer({ maxConcurrentStreams: 2 });
    const transport = new H2ClientTransport({ address: { host: "127.0.0.1", port: s.port } });
    try {
      // Let SETTINGS arrive first, so the client knows the limit.
      assert.equal((await call(transport, "/warm")).body, "/warm");
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => call(transport, `/slow/${i}`)));
      assert.deepEqual(results.map((r) => r.body), Array.from({ length: 10 }, (_, i) => `/slow/${i}`));
      assert.ok(results.every((r) => r.rstCode === 0 && r.error === undefined));
      assert.equal(s.peak(), 2);
    } finally {
      transport.close();
      s.server.destroy();
    }
  });
});

describe("h2 over TLS and unix sockets", () => {
  let pki: TestPki;
  before(async () => {
    pki = await createTestPki();
  });

  test("TLS with ALPN h2: the call works and both sides see a secure peer", async () => {
    const s = await startServer({ tls: { key: pki.server.key, cert: pki.server.cert } });
    const options: H2ConnectOptions = { address: { host: "127.0.0.1", port: s.port }, tls: { ca: pki.ca.cert } };
    const transport = new H2ClientTransport(options);
    try {
      const res = await call(transport, "/secure");
      assert.equal(res.body, "/secure");
      assert.equal(s.lastPeer()?.secure, true);
      assert.equal(transport.peer?.secure, true);
      assert.match(String(res.trailers?.["x-peer"]), /^ipv4:127\.0\.0\.1:\d+$/);
    } finally {
      transport.close();
      s.server.destroy();
    }
  });

  test("mutual TLS: the server sees the client's certificate", async () => {
    const s = await startServer({ tls: { key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requireClientCert: true } });
    const transport = new H2ClientTransport({ address: { host: "127.0.0.1", port: s.port }, tls: { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key } });
    try {
      assert.equal((await call(transport, "/mtls")).body, "/mtls");
      assert.equal(s.lastPeer()?.certificate?.subject.CN, pki.clientName);
    } finally {
      transport.close();
      s.server.destroy();
    }
  });

  test("a TLS client that does not offer h2 is refused", async () => {
    const s = await startServer({ tls: { key: pki.server.key, cert: pki.server.cert } });
    try {
      const socket = tls.connect({ host: "127.0.0.1", port: s.port, ca: pki.ca.cert, ALPNProtocols: ["http/1.1"] });
      let error: Error | undefined;
      socket.on("error", (err) => (error = err));
      await new Promise((resolve) => socket.once("close", resolve));
      assert.match(String(error?.message), /no application protocol/);
    } finally {
      s.server.destroy();
    }
  });

  test("our client refuses a server certificate it cannot verify", async () => {
    const s = await startServer({ tls: { key: pki.server.key, cert: pki.server.cert } });
    const transport = new H2ClientTransport({ address: { host: "127.0.0.1", port: s.port }, tls: { ca: pki.otherCa.cert } });
    try {
      const res = await call(transport, "/x");
      assert.ok(res.error instanceof Error);
    } finally {
      transport.destroy();
      s.server.destroy();
    }
  });

  test("serves and connects over a unix socket", async () => {
    const dir = await mkdtemp(join(tmpdir(), "grpc-ts-h2-"));
    const path = join(dir, "h2.sock");
    const s = await startServer({}, { path });
    const transport = new H2ClientTransport({ address: { path } });
    try {
      assert.deepEqual(s.server.address, { path });
      const res = await call(transport, "/unix");
      assert.equal(res.body, "/unix");
      assert.equal(s.lastPeer()?.address, "unix:");
    } finally {
      transport.close();
      s.server.destroy();
      await s.server.closed();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("h2 client keepalive", () => {
  test("keepalive PINGs are answered and the connection stays up", async () => {
    const s = await startServer();
    let closed = false;
    const transport = new H2ClientTransport({
      address: { host: "127.0.0.1", port: s.port },
      keepalive: { timeMs: 50, timeoutMs: 500, permitWithoutCalls: true },
      onClose: () => (closed = true),
    });
    try {
      assert.equal((await call(transport, "/first")).body, "/first");
      await new Promise((resolve) => setTimeout(resolve, 400));
      assert.equal(closed, false);
      assert.equal(transport.usable, true);
      assert.equal((await call(transport, "/second")).body, "/second");
    } finally {
      transport.close();
      s.server.destroy();
    }
  });

  test("a server that stops answering PINGs is detected: the connection closes with an error", async () => {
    // A peer that completes the SETTINGS exchange and then ignores everything.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => {
      sockets.add(socket);
      const w = new FrameWriter();
      w.settings([]);
      w.settingsAck();
      for (const chunk of w.take()) socket.write(chunk);
      socket.on("data", () => undefined);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    let closeError: Error | undefined;
    const closed = new Promise<void>((resolve) => {
      const transport = new H2ClientTransport({
        address: { host: "127.0.0.1", port },
        keepalive: { timeMs: 50, timeoutMs: 200, permitWithoutCalls: true },
        onClose: (error) => {
          closeError = error;
          resolve();
        },
      });
      void transport;
    });
    try {
      await closed;
      assert.match(String(closeError?.message), /keepalive ping not answered within 200 ms/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
