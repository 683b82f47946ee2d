/**
 * Call credentials: metadata such as a bearer token attached to each call, from the
 * channel (credentials.combine) or one call (CallOptions.credentials). They travel
 * over TLS; over cleartext they fail the call with UNAUTHENTICATED unless
 * allowInsecure is set, and a failing generator fails the call before anything is sent.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  Code, GrpcError, Metadata, bearerAuthInterceptor, createChannel, createClient, credentials, serverCredentials,
  type CallCredentialsContext, type CallOptions, type Channel, type ChannelCredentials, type ServiceImpl,
} from "../src/index.js";
import { Echo } from "./gen/echo_pb.js";
import { createTestPki, type TestPki } from "./helpers/certs.js";
import { startServer, type TestServer } from "./helpers/server.js";

/**
 * An Echo server whose Unary and ServerStream answer with the request's
 * `authorization` and `x-api-key` values, and which counts the calls it ran.
 */
async function startMetadataServer(pki: TestPki | undefined): Promise<TestServer & { calls: () => number }> {
  let calls = 0;
  const seen = (md: Metadata) => JSON.stringify({ authorization: md.getAll("authorization"), apiKey: md.getAll("x-api-key") });
  const impl: Partial<ServiceImpl<typeof Echo>> = {
    unary(_req, ctx) {
      calls++;
      return { message: seen(ctx.requestMetadata) };
    },
    async *serverStream(req, ctx) {
      calls++;
      for (let i = 0; i < req.count; i++) yield { message: seen(ctx.requestMetadata), index: i };
    },
  };
  const creds = pki === undefined ? serverCredentials.insecure() : serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert });
  const ts = await startServer((s) => s.add(Echo, impl), undefined, creds);
  return { ...ts, calls: () => calls };
}

interface Seen {
  authorization: string[];
  apiKey: string[];
}

/** Opens a channel for one test and closes it afterwards. */
async function withChannel<T>(target: string, creds: ChannelCredentials, body: (channel: Channel) => Promise<T>): Promise<T> {
  const channel = createChannel(target, creds);
  try {
    return await body(channel);
  } finally {
    channel.close();
  }
}

async function unarySeen(channel: Channel, options: CallOptions = {}): Promise<Seen> {
  const res = await createClient(Echo, channel).unary({ message: "x" }, { timeoutMs: 10_000, ...options });
  return JSON.parse(res.message) as Seen;
}

function assertGrpcError(code: Code): (err: unknown) => true {
  return (err) => {
    assert.ok(err instanceof GrpcError, `expected a GrpcError, got ${String(err)}`);
    assert.equal(err.code, code, `expected ${Code[code]}, got ${err.message}`);
    return true;
  };
}

let pki: TestPki;
before(async () => {
  pki = await createTestPki();
});

describe("call credentials over TLS", () => {
  let server: Awaited<ReturnType<typeof startMetadataServer>>;
  let tlsCreds: ChannelCredentials;
  before(async () => {
    server = await startMetadataServer(pki);
    tlsCreds = credentials.tls({ ca: pki.ca.cert });
  });
  after(() => server?.close());

  test("credentials.combine(tls, bearerToken) sends authorization: Bearer <token> on unary and streaming calls", async () => {
    await withChannel(server.target, credentials.combine(tlsCreds, credentials.bearerToken("s3cret")), async (channel) => {
      assert.deepEqual(await unarySeen(channel), { authorization: ["Bearer s3cret"], apiKey: [] });
      const streamed: string[] = [];
      for await (const res of createClient(Echo, channel).serverStream({ count: 2 })) streamed.push(res.message);
      assert.deepEqual(streamed.map((m) => (JSON.parse(m) as Seen).authorization), [["Bearer s3cret"], ["Bearer s3cret"]]);
    });
  });

  test("a token function is asked again for every call, so a refreshed token is used", async () => {
    let issued = 0;
    const creds = credentials.combine(tlsCreds, credentials.bearerToken(async () => `token-${++issued}`));
    await withChannel(server.target, creds, async (channel) => {
      assert.deepEqual((await unarySeen(channel)).authorization, ["Bearer token-1"]);
      assert.deepEqual((await unarySeen(channel)).authorization, ["Bearer token-2"]);
    });
    assert.equal(issued, 2);
  });

  test("CallOptions.credentials adds a token to that call only", async () => {
    await withChannel(server.target, tlsCreds, async (channel) => {
      assert.deepEqual((await unarySeen(channel, { credentials: credentials.bearerToken("per-call") })).authorization, ["Bearer per-call"]);
      assert.deepEqual((await unarySeen(channel)).authorization, []);
    });
  });

  test("combine sends the metadata of every call credential it holds", async () => {
    const apiKey = credentials.fromMetadataGenerator(() => new Metadata().set("x-api-key", "k-42"));
    await withChannel(server.target, credentials.combine(tlsCreds, credentials.bearerToken("t"), apiKey), async (channel) => {
      assert.deepEqual(await unarySeen(channel), { authorization: ["Bearer t"], apiKey: ["k-42"] });
    });
  });

  test("a per-call token takes the place of the channel's token for that call", async () => {
    await withChannel(server.target, credentials.combine(tlsCreds, credentials.bearerToken("service")), async (channel) => {
      assert.deepEqual((await unarySeen(channel, { credentials: credentials.bearerToken("user") })).authorization, ["Bearer user"]);
      assert.deepEqual((await unarySeen(channel)).authorization, ["Bearer service"]);
    });
  });

  test("a metadata generator is told the method path and the authority of the call", async () => {
    const contexts: CallCredentialsContext[] = [];
    const creds = credentials.fromMetadataGenerator((context) => {
      contexts.push(context);
      return new Metadata();
    });
    await withChannel(server.target, credentials.combine(tlsCreds, creds), (channel) => unarySeen(channel));
    assert.deepEqual(contexts, [{ methodPath: "/grpcts.test.Echo/Unary", authority: server.target }]);
  });

  test("a generator that throws fails the call with UNAUTHENTICATED and the server never sees it", async () => {
    const before = server.calls();
    const creds = credentials.fromMetadataGenerator(() => {
      throw new Error("token endpoint unreachable");
    });
    await withChannel(server.target, credentials.combine(tlsCreds, creds), async (channel) => {
      await assert.rejects(unarySeen(channel), (err: unknown) => {
        assertGrpcError(Code.UNAUTHENTICATED)(err);
        assert.match((err as GrpcError).message, /token endpoint unreachable/);
        return true;
      });
    });
    assert.equal(server.calls(), before);
  });

  test("a token function that rejects fails a streaming call with UNAUTHENTICATED", async () => {
    const before = server.calls();
    const creds = credentials.bearerToken(() => Promise.reject(new Error("expired refresh token")));
    await withChannel(server.target, tlsCreds, async (channel) => {
      const consume = async () => {
        for await (const _ of createClient(Echo, channel).serverStream({ count: 1 }, { credentials: creds })) assert.fail("no message expected");
      };
      await assert.rejects(consume(), assertGrpcError(Code.UNAUTHENTICATED));
    });
    assert.equal(server.calls(), before);
  });

  test("a generator that throws a GrpcError fails the call with that error's code", async () => {
    const before = server.calls();
    const creds = credentials.fromMetadataGenerator(async () => {
      throw new GrpcError(Code.PERMISSION_DENIED, "this account is locked");
    });
    await withChannel(server.target, credentials.combine(tlsCreds, creds), async (channel) => {
      await assert.rejects(unarySeen(channel), (err: unknown) => {
        assertGrpcError(Code.PERMISSION_DENIED)(err);
        assert.equal((err as GrpcError).rawMessage, "this account is locked");
        return true;
      });
    });
    assert.equal(server.calls(), before);
  });

  test("a token from credentials.bearerToken passes the server's bearerAuthInterceptor", async () => {
    const guarded = await startServer(
      (s) => s.add(Echo, { unary: (req) => ({ message: `hello ${req.message}` }) }),
      { interceptors: [bearerAuthInterceptor({ isAllowed: (token) => token === "let-me-in" })] },
      serverCredentials.tls({ key: pki.server.key, cert: pki.server.cert }),
    );
    try {
      await withChannel(guarded.target, credentials.combine(tlsCreds, credentials.bearerToken("let-me-in")), async (channel) => {
        assert.equal((await createClient(Echo, channel).unary({ message: "alice" })).message, "hello alice");
      });
      await withChannel(guarded.target, credentials.combine(tlsCreds, credentials.bearerToken("guess")), async (channel) => {
        await assert.rejects(createClient(Echo, channel).unary({ message: "mallory" }), assertGrpcError(Code.PERMISSION_DENIED));
      });
    } finally {
      await guarded.close();
    }
  });
});

describe("call credentials over an insecure channel", () => {
  let server: Awaited<ReturnType<typeof startMetadataServer>>;
  before(async () => {
    server = await startMetadataServer(undefined);
  });
  after(() => server?.close());

  test("channel call credentials fail the call with UNAUTHENTICATED; neither token nor call leaves the client", async () => {
    let asked = 0;
    const token = credentials.bearerToken(() => {
      asked++;
      return "leaked?";
    });
    const before = server.calls();
    await withChannel(server.target, credentials.combine(credentials.insecure(), token), async (channel) => {
      await assert.rejects(unarySeen(channel), assertGrpcError(Code.UNAUTHENTICATED));
    });
    assert.equal(asked, 0);
    assert.equal(server.calls(), before);
  });

  test("per-call credentials fail the call with UNAUTHENTICATED too", async () => {
    const before = server.calls();
    await withChannel(server.target, credentials.insecure(), async (channel) => {
      await assert.rejects(unarySeen(channel, { credentials: credentials.bearerToken("t") }), assertGrpcError(Code.UNAUTHENTICATED));
    });
    assert.equal(server.calls(), before);
  });

  test("allowInsecure: true sends the token over cleartext", async () => {
    const token = credentials.bearerToken("dev-token", { allowInsecure: true });
    await withChannel(server.target, credentials.combine(credentials.insecure(), token), async (channel) => {
      assert.deepEqual((await unarySeen(channel)).authorization, ["Bearer dev-token"]);
    });
  });

  test("one credential without allowInsecure among allowed ones still fails the call", async () => {
    const allowed = credentials.fromMetadataGenerator(() => new Metadata().set("x-api-key", "k"), { allowInsecure: true });
    await withChannel(server.target, credentials.combine(credentials.insecure(), allowed), async (channel) => {
      await assert.rejects(unarySeen(channel, { credentials: credentials.bearerToken("t") }), assertGrpcError(Code.UNAUTHENTICATED));
      assert.deepEqual(await unarySeen(channel), { authorization: [], apiKey: ["k"] });
    });
  });
});
