/**
 * Our HTTP/2 transport against node:http2 as the independent peer: our server with a
 * node:http2 client, and our client with a node:http2 server. Bodies of 600 KB cross
 * every flow-control window, 40 KB header blocks need CONTINUATION frames, and many
 * streams run interleaved on one connection.
 */
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { after, before, describe, test } from "node:test";
import { listenH2 } from "../../src/transport/h2/server.js";
import { H2ClientTransport } from "../../src/transport/h2/client.js";
import type { Headers, ServerTransportStream, TransportServer } from "../../src/transport/types.js";

const bigValue = "v".repeat(40_000);

function patterned(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** Echo over the transport seam: the request body back, request headers reported in trailers. */
function echoStream(stream: ServerTransportStream): void {
  const chunks: Uint8Array[] = [];
  stream.attach({
    onData: (chunk) => chunks.push(chunk.slice()),
    onEnd: () => {
      const body = Buffer.concat(chunks);
      const big = stream.headers["x-big"];
      stream.sendHeaders({ ":status": "200", "content-type": "application/octet-stream", ...(big === undefined ? {} : { "x-big-echo": big }) });
      stream.write(body);
      stream.sendTrailers({ "x-length": String(body.length), "x-path": String(stream.headers[":path"]) });
    },
    onAbort: () => undefined,
    onDrain: () => undefined,
  });
}

interface NodeResult {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers: http2.IncomingHttpHeaders;
}

function nodeRequest(session: http2.ClientHttp2Session, path: string, body: Buffer, extra: http2.OutgoingHttpHeaders = {}): Promise<NodeResult> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ":method": "POST", ":path": path, ...extra });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    req.on("response", (h) => (headers = h));
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("trailers", (t) => (trailers = t));
    req.on("error", reject);
    req.on("close", () => resolve({ headers, body: Buffer.concat(chunks), trailers }));
    req.end(body);
  });
}

describe("our h2 server with a node:http2 client", () => {
  let server: TransportServer;
  let session: http2.ClientHttp2Session;

  before(async () => {
    server = await listenH2({ host: "127.0.0.1", port: 0 }, { maxHeaderListSize: 256 * 1024 }, echoStream);
    const { port } = server.address as { port: number };
    session = http2.connect(`http://127.0.0.1:${port}`, { maxHeaderListPairs: 4096, settings: { maxHeaderListSize: 256 * 1024 } });
  });
  after(async () => {
    session.close();
    server.close();
    await server.closed();
  });

  for (const size of [0, 1, 16_384, 65_535, 65_536, 600_000]) {
    test(`echoes a ${size}-byte body intact across flow-control windows`, async () => {
      const body = patterned(size, size);
      const res = await nodeRequest(session, "/echo", body);
      assert.equal(res.headers[":status"], 200);
      assert.equal(res.trailers["x-length"], String(size));
      assert.ok(res.body.equals(body), "the body came back byte for byte");
    });
  }

  test("a 40 KB header value arrives over CONTINUATION frames and goes back the same way", async () => {
    const res = await nodeRequest(session, "/big", Buffer.from("x"), { "x-big": bigValue });
    assert.equal(res.headers["x-big-echo"], bigValue);
    assert.equal(res.trailers["x-path"], "/big");
  });

  test("a hundred interleaved streams each get their own body back", async () => {
    const bodies = Array.from({ length: 100 }, (_, i) => patterned(1000 + i * 997, i));
    const results = await Promise.all(bodies.map((b, i) => nodeRequest(session, `/s${i}`, b)));
    results.forEach((res, i) => {
      assert.ok(res.body.equals(bodies[i]!), `stream ${i}`);
      assert.equal(res.trailers["x-path"], `/s${i}`);
    });
  });
});

describe("our h2 client with a node:http2 server", () => {
  let server: http2.Http2Server;
  let transport: H2ClientTransport;

  before(async () => {
    server = http2.createServer({ settings: { maxHeaderListSize: 256 * 1024 }, maxHeaderListPairs: 4096 });
    server.on("stream", (stream, headers) => {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        const body = Buffer.concat(chunks);
        const big = headers["x-big"];
        stream.respond({ ":status": 200, ...(big === undefined ? {} : { "x-big-echo": big }) }, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers({ "x-length": String(body.length), "x-path": String(headers[":path"]) }));
        stream.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    transport = new H2ClientTransport({ address: { host: "127.0.0.1", port }, maxHeaderListSize: 256 * 1024 });
  });
  after(async () => {
    transport.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function request(path: string, body: Uint8Array, extra: Headers = {}): Promise<{ headers: Headers; body: Buffer; trailers: Headers; rstCode: number }> {
    return new Promise((resolve, reject) => {
      let headers: Headers = {};
      let trailers: Headers = {};
      const chunks: Buffer[] = [];
      const stream = transport.request({ ":method": "POST", ":scheme": "http", ":authority": "localhost", ":path": path, ...extra }, {
        onHeaders: (h) => (headers = h),
        onData: (c) => chunks.push(Buffer.from(c)),
        onTrailers: (t) => (trailers = t),
        onClose: (rstCode, error) => (error === undefined ? resolve({ headers, body: Buffer.concat(chunks), trailers, rstCode }) : reject(error)),
        onDrain: () => undefined,
      });
      stream.end(body);
    });
  }

  for (const size of [0, 1, 65_535, 65_536, 600_000]) {
    test(`sends and receives a ${size}-byte body intact across flow-control windows`, async () => {
      const body = patterned(size, size + 1);
      const res = await request("/echo", body);
      assert.equal(res.headers[":status"], "200");
      assert.equal(res.trailers["x-length"], String(size));
      assert.equal(res.rstCode, 0);
      assert.ok(res.body.equals(body));
    });
  }

  test("a 40 KB header value goes out over CONTINUATION frames and comes back", async () => {
    const res = await request("/big", Buffer.from("x"), { "x-big": bigValue });
    assert.equal(res.headers["x-big-echo"], bigValue);
  });

  test("a hundred concurrent streams on one connection each complete", async () => {
    const bodies = Array.from({ length: 100 }, (_, i) => patterned(500 + i * 1013, i));
    const results = await Promise.all(bodies.map((b, i) => request(`/c${i}`, b)));
    results.forEach((res, i) => {
      assert.ok(res.body.equals(bodies[i]!), `stream ${i}`);
      assert.equal(res.trailers["x-path"], `/c${i}`);
    });
  });
});
