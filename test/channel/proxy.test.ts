/**
 * HTTP CONNECT proxies (gRFC A1): every call type reaches a server through a CONNECT
 * proxy on both transports, in cleartext and with TLS inside the tunnel (checked
 * against the target's name, which only the proxy can resolve); which proxy a channel
 * uses (grpc_proxy / https_proxy / http_proxy, no_proxy, the httpProxy option); and a
 * proxy that refuses, wants other credentials or hangs up fails calls UNAVAILABLE.
 */
import assert from "node:assert/strict";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import {
  Code, GrpcError, Server, createChannel, createClient, credentials, serverCredentials,
  type Channel, type ChannelCredentials, type ChannelOptions, type Client,
} from "../../src/index.js";
import { isNoProxyHost, parseProxyUrl, proxyFromEnvironment } from "../../src/client/proxy.js";
import { Echo } from "../gen/echo_pb.js";
import { createTestPki, type TestPki } from "../helpers/certs.js";
import { createJsClient, jsUnary } from "../helpers/grpc-js.js";
import { startConnectProxy, type ConnectProxy, type ConnectProxyOptions } from "../helpers/connect-proxy.js";
import { echoService, startServer, testTransport, type TestServer } from "../helpers/server.js";

const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

const proxyVariables = ["grpc_proxy", "https_proxy", "http_proxy", "no_grpc_proxy", "no_proxy"].flatMap((name) => [name, name.toUpperCase()]);

/** Runs `fn` with exactly `vars` as the proxy variables of the environment, then restores them. */
function withProxyEnv<T>(vars: Record<string, string>, fn: () => T): T {
  const saved = new Map(proxyVariables.map((name) => [name, process.env[name]]));
  for (const name of proxyVariables) delete process.env[name];
  Object.assign(process.env, vars);
  try {
    return fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function proxy(options?: ConnectProxyOptions): Promise<ConnectProxy> {
  const started = await startConnectProxy(options);
  cleanup.push(() => started.close());
  return started;
}

async function echoServer(options: { transport?: "node-http2" | "h2"; tls?: TestPki["server"] } = {}): Promise<TestServer> {
  const creds = options.tls === undefined ? undefined : serverCredentials.tls({ key: options.tls.key, cert: options.tls.cert });
  const server = await startServer((s) => s.add(Echo, echoService), { transport: options.transport ?? testTransport }, creds);
  cleanup.push(() => server.close());
  return server;
}

/** A channel made under the given proxy environment (none by default), closed after the file. */
function open(target: string, options: ChannelOptions = {}, env: Record<string, string> = {}, creds: ChannelCredentials = credentials.insecure()): Channel {
  const channel = withProxyEnv(env, () => createChannel(target, creds, { transport: testTransport, ...options }));
  cleanup.push(() => channel.close());
  return channel;
}

async function* requests(messages: readonly string[]) {
  for (const message of messages) yield { message };
}

/** Makes one call of each kind and checks every answer. */
async function callEveryKind(client: Client<typeof Echo>): Promise<void> {
  const timeoutMs = 10_000;
  assert.equal((await client.unary({ message: "one" }, { timeoutMs })).message, "one");
  const streamed: number[] = [];
  for await (const res of client.serverStream({ message: "s", count: 3 }, { timeoutMs })) streamed.push(res.index);
  assert.deepEqual(streamed, [0, 1, 2]);
  assert.equal((await client.clientStream(requests(["a", "b", "c"]), { timeoutMs })).message, "a,b,c");
  const echoed: string[] = [];
  for await (const res of client.bidi(requests(["x", "y", "z"]), { timeoutMs })) echoed.push(res.message);
  assert.deepEqual(echoed, ["x", "y", "z"]);
}

async function unaryError(channel: Channel, options: { timeoutMs?: number; waitForReady?: boolean } = {}): Promise<GrpcError> {
  const error = await createClient(Echo, channel).unary({ message: "hi" }, { timeoutMs: 10_000, ...options }).then(
    () => assert.fail("the call succeeded"),
    (err: unknown) => err,
  );
  assert.ok(error instanceof GrpcError, `expected a GrpcError, got ${String(error)}`);
  return error;
}

/** A name no resolver knows: only the test proxy maps it to 127.0.0.1. */
const proxyOnlyName = "grpc-ts.test.invalid";

before(() => {
  // The file's own channels decide their proxy; nothing inherited from the machine may leak in.
  for (const name of proxyVariables) delete process.env[name];
});

describe("proxy settings", () => {
  const urls = [
    ["http://proxy.example:3128", { host: "proxy.example", port: 3128 }],
    ["http://proxy.example", { host: "proxy.example", port: 80 }],
    ["proxy.example:8080", { host: "proxy.example", port: 8080 }],
    ["http://alice:s%40cret@10.0.0.1:3128/", { host: "10.0.0.1", port: 3128, userinfo: "alice:s@cret" }],
    ["http://alice@10.0.0.1:3128", { host: "10.0.0.1", port: 3128, userinfo: "alice" }],
    ["http://[::1]:3128", { host: "::1", port: 3128 }],
  ] as const;
  for (const [url, want] of urls) {
    test(`proxy URL ${url} parses to ${JSON.stringify(want)}`, () => {
      assert.deepEqual(parseProxyUrl(url), want);
    });
  }

  for (const bad of ["https://proxy.example:443", "socks5://proxy.example:1080", "http://:3128", "http://proxy.example:99999"]) {
    test(`proxy URL ${bad} is rejected with a TypeError`, () => {
      assert.throws(() => parseProxyUrl(bad), TypeError);
    });
  }

  const noProxy = "localhost, .corp.example, example.org ,*.svc.cluster,10.1.0.0/16,192.168.1.7,[::1]";
  const hosts = [
    ["localhost", true], ["LOCALHOST", true], ["notlocalhost", false],
    ["corp.example", true], ["db.corp.example", true], ["corp.example.com", false],
    ["example.org", true], ["api.example.org", true], ["badexample.org", false],
    ["svc.cluster", true], ["a.b.svc.cluster", true],
    ["10.1.200.3", true], ["10.2.0.1", false], ["192.168.1.7", true], ["192.168.1.70", false],
    ["::1", true], ["::2", false], ["grpc.io", false],
  ] as const;
  for (const [host, exempt] of hosts) {
    test(`no_proxy ${exempt ? "exempts" : "does not exempt"} ${host}`, () => {
      assert.equal(isNoProxyHost(host, noProxy), exempt);
    });
  }

  test('no_proxy "*" exempts every host, an empty list none', () => {
    assert.equal(isNoProxyHost("anything.example", "*"), true);
    assert.equal(isNoProxyHost("anything.example", ""), false);
    assert.equal(isNoProxyHost("10.0.0.1", " , "), false);
  });

  test("the first proxy variable set wins: grpc_proxy, then https_proxy, then http_proxy, lower case before upper case", () => {
    const a = "http://a.example:1";
    const b = "http://b.example:2";
    const c = "http://c.example:3";
    assert.equal(proxyFromEnvironment({ grpc_proxy: a, https_proxy: b, http_proxy: c })?.host, "a.example");
    assert.equal(proxyFromEnvironment({ https_proxy: b, http_proxy: c })?.host, "b.example");
    assert.equal(proxyFromEnvironment({ HTTPS_PROXY: b, http_proxy: c })?.host, "b.example");
    assert.equal(proxyFromEnvironment({ HTTP_PROXY: c })?.host, "c.example");
    assert.equal(proxyFromEnvironment({ grpc_proxy: a, GRPC_PROXY: c })?.host, "a.example");
    assert.equal(proxyFromEnvironment({ grpc_proxy: "", http_proxy: c })?.host, "c.example");
    assert.equal(proxyFromEnvironment({}), undefined);
    assert.equal(proxyFromEnvironment({ http_proxy: "https://secure.example" }), undefined);
  });

  test("a channel with an httpProxy option that is not an http:// URL throws a TypeError", () => {
    assert.throws(() => createChannel("localhost:1", credentials.insecure(), { httpProxy: "https://proxy.example" }), TypeError);
  });
});

for (const transport of ["node-http2", "h2"] as const) {
  describe(`through a CONNECT proxy on the ${transport} transport`, () => {
    let pki: TestPki;
    before(async () => {
      pki = await createTestPki();
    });

    test("every call type succeeds in cleartext, over one tunnel to the target the channel never resolves", async () => {
      const server = await echoServer({ transport });
      const tunnel = await proxy({ hosts: { [proxyOnlyName]: "127.0.0.1" } });
      const target = `${proxyOnlyName}:${server.port}`;
      const channel = open(target, { transport, httpProxy: tunnel.url });
      await callEveryKind(createClient(Echo, channel));
      assert.equal(tunnel.tunnels, 1);
      assert.deepEqual(tunnel.requests.map((r) => [r.target, r.headers.host]), [[target, target]]);
      assert.equal(tunnel.requests[0]!.headers["proxy-authorization"], undefined);
    });

    test("every call type succeeds with TLS inside the tunnel, verified against the target's name", async () => {
      const server = await echoServer({ transport, tls: pki.serverOtherName });
      const tunnel = await proxy({ hosts: { [pki.otherServerName]: "127.0.0.1" } });
      const channel = open(`${pki.otherServerName}:${server.port}`, { transport, httpProxy: tunnel.url }, {}, credentials.tls({ ca: pki.ca.cert }));
      await callEveryKind(createClient(Echo, channel));
      assert.equal(tunnel.tunnels, 1);
      assert.equal(tunnel.requests[0]!.target, `${pki.otherServerName}:${server.port}`);
    });

    test("TLS through the tunnel fails UNAVAILABLE when the server's certificate is not for the target", async () => {
      // pki.server is for localhost and 127.0.0.1, not for the name the channel asked for.
      const server = await echoServer({ transport, tls: pki.server });
      const tunnel = await proxy({ hosts: { [pki.otherServerName]: "127.0.0.1" } });
      const channel = open(`${pki.otherServerName}:${server.port}`, { transport, httpProxy: tunnel.url }, {}, credentials.tls({ ca: pki.ca.cert }));
      const error = await unaryError(channel);
      assert.equal(error.code, Code.UNAVAILABLE);
      assert.ok(tunnel.tunnels >= 1, "the tunnel opened; TLS failed inside it");
    });

    test("bytes the proxy sends along with its 200 reach the HTTP/2 connection", async () => {
      const server = await echoServer({ transport });
      const tunnel = await proxy({ coalesceFirstBytes: true });
      const channel = open(`localhost:${server.port}`, { transport, httpProxy: tunnel.url });
      await callEveryKind(createClient(Echo, channel));
      assert.equal(tunnel.tunnels, 1);
    });

    test("Basic credentials from the proxy URL go in Proxy-Authorization", async () => {
      const server = await echoServer({ transport });
      const tunnel = await proxy({ auth: { user: "alice", password: "p@ss:word" } });
      const channel = open(`localhost:${server.port}`, { transport, httpProxy: `http://alice:${encodeURIComponent("p@ss:word")}@127.0.0.1:${tunnel.port}` });
      assert.equal((await createClient(Echo, channel).unary({ message: "authorized" }, { timeoutMs: 10_000 })).message, "authorized");
      assert.equal(tunnel.tunnels, 1);
      assert.equal(tunnel.requests[0]!.headers["proxy-authorization"], `Basic ${Buffer.from("alice:p@ss:word").toString("base64")}`);
    });
  });
}

describe("which channels use a proxy", () => {
  test("http_proxy from the environment is used for a dns target", async () => {
    const server = await echoServer();
    const tunnel = await proxy();
    const channel = open(`localhost:${server.port}`, {}, { http_proxy: tunnel.url });
    assert.equal((await createClient(Echo, channel).unary({ message: "via env" }, { timeoutMs: 10_000 })).message, "via env");
    assert.equal(tunnel.tunnels, 1);
  });

  test("HTTPS_PROXY in upper case is picked up, and grpc_proxy wins over it", async () => {
    const server = await echoServer();
    const upper = await proxy();
    const preferred = await proxy();
    const first = open(`localhost:${server.port}`, {}, { HTTPS_PROXY: upper.url });
    await createClient(Echo, first).unary({ message: "upper" }, { timeoutMs: 10_000 });
    assert.equal(upper.tunnels, 1);
    const second = open(`localhost:${server.port}`, {}, { grpc_proxy: preferred.url, HTTPS_PROXY: upper.url, http_proxy: upper.url });
    await createClient(Echo, second).unary({ message: "grpc_proxy" }, { timeoutMs: 10_000 });
    assert.equal(preferred.tunnels, 1);
    assert.equal(upper.tunnels, 1);
  });

  test("@grpc/grpc-js under the same environment sends the same CONNECT request", async () => {
    const server = await echoServer();
    const tunnel = await proxy({ auth: { user: "alice", password: "pw" } });
    const env = { http_proxy: `http://alice:pw@127.0.0.1:${tunnel.port}`, no_proxy: "example.com" };
    const ours = open(`localhost:${server.port}`, {}, env);
    assert.equal((await createClient(Echo, ours).unary({ message: "grpc-ts" }, { timeoutMs: 10_000 })).message, "grpc-ts");
    const theirs = withProxyEnv(env, () => createJsClient(`localhost:${server.port}`));
    cleanup.push(() => theirs.close());
    assert.equal((await jsUnary(theirs, { message: "grpc-js" }).result).response.message, "grpc-js");
    assert.equal(tunnel.tunnels, 2);
    const [fromOurs, fromGrpcJs] = tunnel.requests.map((r) => [r.target, r.headers.host, r.headers["proxy-authorization"]]);
    assert.deepEqual(fromOurs, [`localhost:${server.port}`, `localhost:${server.port}`, `Basic ${Buffer.from("alice:pw").toString("base64")}`]);
    assert.deepEqual(fromOurs, fromGrpcJs);
  });

  test("a host in no_proxy (or NO_PROXY) connects directly", async () => {
    const server = await echoServer();
    const tunnel = await proxy();
    const cases: [string, Record<string, string>][] = [
      [`localhost:${server.port}`, { http_proxy: tunnel.url, no_proxy: "example.com,localhost" }],
      [`127.0.0.1:${server.port}`, { http_proxy: tunnel.url, NO_PROXY: "127.0.0.0/8" }],
    ];
    for (const [target, env] of cases) {
      const channel = open(target, {}, env);
      assert.equal((await createClient(Echo, channel).unary({ message: "direct" }, { timeoutMs: 10_000 })).message, "direct");
    }
    assert.equal(tunnel.requests.length, 0);
  });

  test("httpProxy false connects directly whatever the environment says", async () => {
    const server = await echoServer();
    const refusing = await proxy({ refuseWith: 403 });
    const channel = open(`localhost:${server.port}`, { httpProxy: false }, { grpc_proxy: refusing.url, http_proxy: refusing.url });
    assert.equal((await createClient(Echo, channel).unary({ message: "direct" }, { timeoutMs: 10_000 })).message, "direct");
    assert.equal(refusing.requests.length, 0);
  });

  test("an httpProxy URL overrides the environment, no_proxy included", async () => {
    const server = await echoServer();
    const refusing = await proxy({ refuseWith: 403 });
    const chosen = await proxy();
    const channel = open(`localhost:${server.port}`, { httpProxy: chosen.url }, { http_proxy: refusing.url, no_proxy: "localhost" });
    await createClient(Echo, channel).unary({ message: "chosen" }, { timeoutMs: 10_000 });
    assert.equal(chosen.tunnels, 1);
    assert.equal(refusing.requests.length, 0);
  });

  test("ipv4: and unix: targets never go through the proxy", async () => {
    const tcp = await echoServer();
    const refusing = await proxy({ refuseWith: 403 });
    const env = { grpc_proxy: refusing.url };
    const ipv4 = open(`ipv4:127.0.0.1:${tcp.port}`, {}, env);
    assert.equal((await createClient(Echo, ipv4).unary({ message: "ipv4" }, { timeoutMs: 10_000 })).message, "ipv4");

    const socketPath = path.join(os.tmpdir(), `grpc-ts-proxy-${process.pid}.sock`);
    const unixServer = new Server({ transport: testTransport });
    unixServer.add(Echo, echoService);
    await unixServer.listen(`unix:${socketPath}`);
    cleanup.push(async () => {
      unixServer.forceShutdown();
      await unixServer.shutdown({ graceMs: 0 });
    });
    const unix = open(`unix:${socketPath}`, {}, env);
    assert.equal((await createClient(Echo, unix).unary({ message: "unix" }, { timeoutMs: 10_000 })).message, "unix");
    assert.equal(refusing.requests.length, 0);
  });
});

describe("a proxy that does not open the tunnel", () => {
  const fastBackoff = { initialBackoffMs: 50, maxBackoffMs: 100, jitter: 0 };

  test("wrong credentials (407) fail the call UNAVAILABLE", async () => {
    const server = await echoServer();
    const tunnel = await proxy({ auth: { user: "alice", password: "right" } });
    const channel = open(`localhost:${server.port}`, { httpProxy: `http://alice:wrong@127.0.0.1:${tunnel.port}` });
    const error = await unaryError(channel);
    assert.equal(error.code, Code.UNAVAILABLE);
    assert.match(error.message, /407/);
    assert.equal(tunnel.tunnels, 0);
    assert.equal(tunnel.requests[0]!.headers["proxy-authorization"], `Basic ${Buffer.from("alice:wrong").toString("base64")}`);
  });

  test("missing credentials (407) fail the call UNAVAILABLE", async () => {
    const server = await echoServer();
    const tunnel = await proxy({ auth: { user: "alice", password: "right" } });
    const channel = open(`localhost:${server.port}`, {}, { http_proxy: tunnel.url });
    assert.equal((await unaryError(channel)).code, Code.UNAVAILABLE);
    assert.equal(tunnel.requests[0]!.headers["proxy-authorization"], undefined);
  });

  test("a refusal is a failed connection attempt, retried with backoff", async () => {
    const server = await echoServer();
    const tunnel = await proxy({ refuseWith: 403 });
    const channel = open(`localhost:${server.port}`, { httpProxy: tunnel.url, backoff: fastBackoff });
    const error = await unaryError(channel, { waitForReady: true, timeoutMs: 1_500 });
    assert.equal(error.code, Code.DEADLINE_EXCEEDED);
    assert.ok(tunnel.requests.length >= 2, `expected the subchannel to try again, saw ${tunnel.requests.length} CONNECT request(s)`);
    assert.equal(channel.getConnectivityState(), "TRANSIENT_FAILURE");
  });

  test("a proxy that hangs up before answering fails the call UNAVAILABLE", async () => {
    const server = await echoServer();
    const tunnel = await proxy({ hangUp: true });
    const channel = open(`localhost:${server.port}`, { httpProxy: tunnel.url });
    const error = await unaryError(channel);
    assert.equal(error.code, Code.UNAVAILABLE);
    assert.equal(tunnel.requests.length, 1);
  });

  test("a proxy that is not listening fails the call UNAVAILABLE", async () => {
    const server = await echoServer();
    const gone = await startConnectProxy();
    await gone.close();
    const channel = open(`localhost:${server.port}`, { httpProxy: gone.url });
    assert.equal((await unaryError(channel)).code, Code.UNAVAILABLE);
  });
});
