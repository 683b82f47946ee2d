/**
 * Transport security: TLS with ALPN h2 (one line of credentials on each side),
 * server certificate verification (CA, name, serverNameOverride), mutual TLS with
 * the client's certificate visible to handlers, and both directions of TLS interop
 * with @grpc/grpc-js. Certificates are made at test time (helpers/certs.ts).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as tls from "node:tls";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  Code, GrpcError, createChannel, createClient, credentials, serverCredentials,
  type ChannelCredentials, type HandlerContext, type ServerCredentials, type ServiceImpl,
} from "../src/index.js";
import { Echo, EchoRequestSchema, EchoResponseSchema, type EchoRequest, type EchoResponse } from "./gen/echo_pb.js";
import { createTestPki, type TestPki } from "./helpers/certs.js";
import { startServer, type TestServer } from "./helpers/server.js";

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

/** What a handler saw of its peer, as the unary response's message. */
interface SeenPeer {
  secure: boolean;
  subjectCN: string | string[] | undefined;
  issuerCN: string | string[] | undefined;
}

function describePeer(ctx: HandlerContext): string {
  const cert = ctx.peer.certificate;
  const seen: SeenPeer = { secure: ctx.peer.secure, subjectCN: cert?.subject?.CN, issuerCN: cert?.issuer?.CN };
  return JSON.stringify(seen);
}

/** An Echo server whose Unary answers with what it saw of the peer, counting calls. */
async function startPeerServer(creds: ServerCredentials): Promise<TestServer & { calls: () => number }> {
  let calls = 0;
  const impl: Partial<ServiceImpl<typeof Echo>> = {
    unary(_req, ctx) {
      calls++;
      return { message: describePeer(ctx) };
    },
  };
  const ts = await startServer((s) => s.add(Echo, impl), undefined, creds);
  return { ...ts, calls: () => calls };
}

/** One unary call on a fresh channel, closed afterwards; resolves with the peer the handler saw. */
async function callPeer(target: string, creds: ChannelCredentials): Promise<SeenPeer> {
  const channel = createChannel(target, creds);
  try {
    const res = await createClient(Echo, channel).unary({ message: "hi" }, { timeoutMs: 10_000 });
    return JSON.parse(res.message) as SeenPeer;
  } finally {
    channel.close();
  }
}

async function callError(target: string, creds: ChannelCredentials): Promise<GrpcError> {
  try {
    const seen = await callPeer(target, creds);
    assert.fail(`expected the call to fail, it succeeded and the handler saw ${JSON.stringify(seen)}`);
  } catch (err) {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    return err;
  }
}

describe("TLS", () => {
  let server: Awaited<ReturnType<typeof startPeerServer>>;
  let cleartext: Awaited<ReturnType<typeof startPeerServer>>;
  before(async () => {
    server = await startPeerServer(serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert }));
    cleartext = await startPeerServer(serverCredentials.insecure());
  });
  after(async () => {
    await server?.close();
    await cleartext?.close();
  });

  test("switching from insecure() to tls() is one line on each side, and the handler sees a secure peer", async () => {
    const insecurePeer = await callPeer(cleartext.target, credentials.insecure());
    assert.deepEqual(insecurePeer, { secure: false });
    const securePeer = await callPeer(server.target, credentials.tls({ ca: pki.ca.cert }));
    assert.deepEqual(securePeer, { secure: true });
  });

  test("the server certificate is verified against a DNS name too (localhost)", async () => {
    const peer = await callPeer(`localhost:${server.port}`, credentials.tls({ ca: pki.ca.cert }));
    assert.equal(peer.secure, true);
  });

  test("the server negotiates ALPN h2 and refuses a client that offers only http/1.1", async () => {
    const negotiated = await new Promise<string | false | null>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert, ALPNProtocols: ["h2"] });
      socket.once("secureConnect", () => {
        resolve(socket.alpnProtocol);
        socket.destroy();
      });
      socket.once("error", reject);
    });
    assert.equal(negotiated, "h2");

    const refusal = await new Promise<Error>((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca: pki.ca.cert, ALPNProtocols: ["http/1.1"] });
      socket.once("secureConnect", () => {
        socket.destroy();
        reject(new Error(`handshake succeeded with ALPN ${String(socket.alpnProtocol)}`));
      });
      socket.once("error", resolve);
    });
    assert.match(refusal.message, /no application protocol/i);
  });

  test("a server certificate from an unknown CA fails the call with UNAVAILABLE before any handler runs", async () => {
    const before = server.calls();
    const err = await callError(server.target, credentials.tls({ ca: pki.otherCa.cert }));
    assert.equal(err.code, Code.UNAVAILABLE);
    assert.match(err.message, /certificate/);
    assert.equal(server.calls(), before);
  });

  test("a cleartext client against a TLS server fails with UNAVAILABLE", async () => {
    const before = server.calls();
    const err = await callError(server.target, credentials.insecure());
    assert.equal(err.code, Code.UNAVAILABLE);
    assert.equal(server.calls(), before);
  });

  test("a TLS client against a cleartext server fails with UNAVAILABLE", async () => {
    const before = cleartext.calls();
    const err = await callError(cleartext.target, credentials.tls({ ca: pki.ca.cert }));
    assert.equal(err.code, Code.UNAVAILABLE);
    assert.equal(cleartext.calls(), before);
  });
});

describe("serverNameOverride", () => {
  let server: Awaited<ReturnType<typeof startPeerServer>>;
  before(async () => {
    // The certificate names only pki.otherServerName: the address 127.0.0.1 does not match it.
    server = await startPeerServer(serverCredentials.tls({ key: pki.serverOtherName.key, cert: pki.serverOtherName.cert }));
  });
  after(() => server?.close());

  test("verifies the certificate against the override instead of the address", async () => {
    const peer = await callPeer(server.target, credentials.tls({ ca: pki.ca.cert, serverNameOverride: pki.otherServerName }));
    assert.equal(peer.secure, true);
  });

  test("without the override the name mismatch fails the call with UNAVAILABLE", async () => {
    const err = await callError(server.target, credentials.tls({ ca: pki.ca.cert }));
    assert.equal(err.code, Code.UNAVAILABLE);
    assert.match(err.message, /altnames|does not match/);
  });

  test("an override naming something else fails the call with UNAVAILABLE", async () => {
    const err = await callError(server.target, credentials.tls({ ca: pki.ca.cert, serverNameOverride: "elsewhere.test.invalid" }));
    assert.equal(err.code, Code.UNAVAILABLE);
  });
});

describe("mutual TLS", () => {
  let server: Awaited<ReturnType<typeof startPeerServer>>;
  before(async () => {
    server = await startPeerServer(serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requireClientCert: true }));
  });
  after(() => server?.close());

  test("the handler sees the client's certificate subject and a secure peer", async () => {
    const peer = await callPeer(server.target, credentials.tls({ ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }));
    assert.deepEqual(peer, { secure: true, subjectCN: pki.clientName, issuerCN: "grpc-ts test CA" });
  });

  test("a client without a certificate is refused with UNAVAILABLE and never reaches a handler", async () => {
    const before = server.calls();
    const err = await callError(server.target, credentials.tls({ ca: pki.ca.cert }));
    assert.equal(err.code, Code.UNAVAILABLE);
    assert.equal(server.calls(), before);
  });

  test("a client certificate signed by another CA is refused with UNAVAILABLE and never reaches a handler", async () => {
    const before = server.calls();
    const err = await callError(server.target, credentials.tls({ ca: pki.ca.cert, cert: pki.otherClient.cert, key: pki.otherClient.key }));
    assert.equal(err.code, Code.UNAVAILABLE);
    assert.equal(server.calls(), before);
  });

  test("credentials refuse half a key pair and requireClientCert without a CA", () => {
    assert.throws(() => credentials.tls({ ca: pki.ca.cert, cert: pki.client.cert }), TypeError);
    assert.throws(() => serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert, requireClientCert: true }), TypeError);
  });
});

describe("mutual TLS interop with @grpc/grpc-js", () => {
  const unaryPath = "/grpcts.test.Echo/Unary";
  const serializeRequest = (m: EchoRequest) => Buffer.from(toBinary(EchoRequestSchema, m));
  const deserializeRequest = (b: Buffer) => fromBinary(EchoRequestSchema, b);
  const serializeResponse = (m: EchoResponse) => Buffer.from(toBinary(EchoResponseSchema, m));
  const deserializeResponse = (b: Buffer) => fromBinary(EchoResponseSchema, b);

  test("a grpc-js client with a client certificate calls a grpc-ts server that requires one", async () => {
    const server = await startPeerServer(serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requireClientCert: true }));
    const jsCreds = grpc.credentials.createSsl(Buffer.from(pki.ca.cert), Buffer.from(pki.client.key), Buffer.from(pki.client.cert));
    // Naming the server keeps grpc-js from sending an IP address as SNI (RFC 6066 forbids it).
    const client = new grpc.Client(server.target, jsCreds, { "grpc.ssl_target_name_override": "localhost" });
    try {
      const res = await new Promise<EchoResponse>((resolve, reject) => {
        client.makeUnaryRequest(unaryPath, serializeRequest, deserializeResponse, create(EchoRequestSchema, { message: "js" }), (err, value) => (err ? reject(err) : resolve(value!)));
      });
      assert.deepEqual(JSON.parse(res.message), { secure: true, subjectCN: pki.clientName, issuerCN: "grpc-ts test CA" });
    } finally {
      client.close();
      await server.close();
    }
  });

  test("a grpc-ts client with a client certificate calls a grpc-js server that requires one", async () => {
    const jsServer = new grpc.Server();
    let seenCN: string | string[] | undefined;
    jsServer.register(unaryPath, (call: grpc.ServerUnaryCall<EchoRequest, EchoResponse>, callback: grpc.sendUnaryData<EchoResponse>) => {
      seenCN = call.getAuthContext().sslPeerCertificate?.subject?.CN;
      callback(null, create(EchoResponseSchema, { message: `js saw ${call.request.message}` }));
    }, serializeResponse, deserializeRequest, "unary");
    const jsCreds = grpc.ServerCredentials.createSsl(Buffer.from(pki.ca.cert), [{ private_key: Buffer.from(pki.server.key), cert_chain: Buffer.from(pki.server.cert) }], true);
    const port = await new Promise<number>((resolve, reject) =>
      jsServer.bindAsync("127.0.0.1:0", jsCreds, (err, p) => (err === null ? resolve(p) : reject(err))),
    );
    const channel = createChannel(`127.0.0.1:${port}`, credentials.tls({ ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key }));
    const noCertChannel = createChannel(`127.0.0.1:${port}`, credentials.tls({ ca: pki.ca.cert }));
    try {
      const res = await createClient(Echo, channel).unary({ message: "ts" }, { timeoutMs: 10_000 });
      assert.equal(res.message, "js saw ts");
      assert.equal(seenCN, pki.clientName);
      await assert.rejects(createClient(Echo, noCertChannel).unary({ message: "ts" }, { timeoutMs: 10_000 }), (err: unknown) => {
        assert.ok(err instanceof GrpcError);
        assert.equal(err.code, Code.UNAVAILABLE);
        return true;
      });
    } finally {
      channel.close();
      noCertChannel.close();
      jsServer.forceShutdown();
    }
  });
});
