/**
 * One port for HTTP/2 and HTTP/1.1: the h2 server hands a cleartext connection that
 * starts with an HTTP/1.x request line, or a TLS connection that chose "http/1.1" with
 * ALPN, to a node:http parser, and keeps serving HTTP/2 on the others.
 */
import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as https from "node:https";
import * as net from "node:net";
import { after, before, describe, test } from "node:test";
import { listenH2, type H2ServerOptions } from "../../src/transport/h2/server.js";
import type { ServerTransportStream, TransportServer } from "../../src/transport/types.js";
import { createTestPki, type TestPki } from "../helpers/certs.js";

function answerH2(stream: ServerTransportStream): void {
  stream.attach({
    onData: () => undefined,
    onEnd: () => {
      stream.sendHeaders({ ":status": "200" });
      stream.write(new TextEncoder().encode("over h2"));
      stream.sendTrailers({});
    },
    onAbort: () => undefined,
    onDrain: () => undefined,
  });
}

const http1: H2ServerOptions["http1"] = (req, res) => {
  let body = "";
  req.on("data", (c: Buffer) => (body += c.toString()));
  req.on("end", () => {
    res.setHeader("content-type", "text/plain");
    res.end(`over http/1.1: ${req.method} ${req.url} ${body} secure=${"encrypted" in req.socket}`);
  });
};

function h2Get(url: string, options: http2.SecureClientSessionOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url, options);
    session.on("error", reject);
    const req = session.request({ ":method": "GET", ":path": "/" });
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      session.close();
      resolve(body);
    });
    req.on("error", reject);
    req.end();
  });
}

function http1Request(agent: http.Agent, port: number, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "POST", agent }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve(text));
    });
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP/1.1 and HTTP/2 on one cleartext port", () => {
  let server: TransportServer;
  let port: number;
  before(async () => {
    server = await listenH2({ host: "127.0.0.1", port: 0 }, { http1 }, answerH2);
    port = (server.address as { port: number }).port;
  });
  after(async () => {
    server.destroy();
    await server.closed();
  });

  test("an HTTP/1.1 request goes to the node:http handler", async () => {
    const agent = new http.Agent({ keepAlive: false });
    assert.equal(await http1Request(agent, port, "/one", "body"), "over http/1.1: POST /one body secure=false");
    agent.destroy();
  });

  test("two HTTP/1.1 requests on one kept-alive connection are both served", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal(await http1Request(agent, port, "/a", "1"), "over http/1.1: POST /a 1 secure=false");
      assert.equal(await http1Request(agent, port, "/b", "2"), "over http/1.1: POST /b 2 secure=false");
    } finally {
      agent.destroy();
    }
  });

  test("an HTTP/2 client with prior knowledge is still served on the same port", async () => {
    assert.equal(await h2Get(`http://127.0.0.1:${port}`), "over h2");
  });
});

describe("HTTP/1.1 and HTTP/2 on one TLS port, chosen by ALPN", () => {
  let pki: TestPki;
  let server: TransportServer;
  let port: number;
  before(async () => {
    pki = await createTestPki();
    server = await listenH2({ host: "127.0.0.1", port: 0 }, { http1, tls: { key: pki.server.key, cert: pki.server.cert } }, answerH2);
    port = (server.address as { port: number }).port;
  });
  after(async () => {
    server.destroy();
    await server.closed();
  });

  test("ALPN http/1.1 goes to the node:http handler", async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = https.request({ host: "127.0.0.1", port, path: "/tls", method: "POST", ca: pki.ca.cert, agent: false }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      req.end("x");
    });
    assert.equal(body, "over http/1.1: POST /tls x secure=true");
  });

  test("ALPN h2 is served by the h2 transport", async () => {
    assert.equal(await h2Get(`https://127.0.0.1:${port}`, { ca: pki.ca.cert }), "over h2");
  });
});

describe("HTTP/1.1 without a handler", () => {
  test("an HTTP/1.1 request is refused: the connection closes without an HTTP/1.1 response", async () => {
    const server = await listenH2({ host: "127.0.0.1", port: 0 }, {}, answerH2);
    try {
      const port = (server.address as { port: number }).port;
      const received = await new Promise<string>((resolve) => {
        const socket = net.connect({ host: "127.0.0.1", port }, () => socket.write("GET / HTTP/1.1\r\nhost: x\r\n\r\n"));
        let data = "";
        socket.on("data", (c: Buffer) => (data += c.toString("latin1")));
        socket.on("error", () => undefined);
        socket.on("close", () => resolve(data));
      });
      assert.ok(!received.startsWith("HTTP/1.1"), "no HTTP/1.1 response");
    } finally {
      server.destroy();
      await server.closed();
    }
  });
});

describe("closing a server with HTTP/1.1 connections", () => {
  test("close() ends an idle kept-alive HTTP/1.1 connection, so closed() resolves", async () => {
    const server = await listenH2({ host: "127.0.0.1", port: 0 }, { http1 }, answerH2);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const port = (server.address as { port: number }).port;
      assert.equal(await http1Request(agent, port, "/k", "v"), "over http/1.1: POST /k v secure=false");
      server.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        server.closed().then(() => "closed"),
        new Promise((resolve) => (timer = setTimeout(() => resolve("still open"), 5000))),
      ]);
      clearTimeout(timer);
      assert.equal(outcome, "closed");
    } finally {
      agent.destroy();
      server.destroy();
    }
  });
});
