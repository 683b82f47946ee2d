/**
 * Metadata end to end: request headers to ctx.requestMetadata, response headers to
 * onHeader (with the first message, or early through ctx.sendHeader()), trailers to
 * onTrailer; ASCII and -bin values, repeated values; reserved keys refused wherever an
 * application tries to set them.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Code, GrpcError, Metadata, createChannel, createClient, credentials, type Channel, type Client, type HandlerContext, type MetadataValue } from "../src/index.js";
import { Echo } from "./gen/echo_pb.js";
import { echoService, startServer } from "./helpers/server.js";

const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
const moreBytes = new Uint8Array([0xff, 0x00, 0x2c /* "," */, 0x3d /* "=" */]);

/** Every value of every key, -bin values as plain arrays, for deepEqual. */
function entries(md: Metadata | undefined, keys: readonly string[]): Record<string, Array<string | number[]>> {
  const out: Record<string, Array<string | number[]>> = {};
  for (const key of keys) out[key] = (md?.getAll(key) ?? []).map((v: MetadataValue) => (typeof v === "string" ? v : [...v]));
  return out;
}

/** The metadata every test sends one way or the other: ASCII, -bin, repeated, awkward values. */
function sample(): Metadata {
  return new Metadata()
    .set("x-ascii", "plain value with spaces ~!@#$%^&*()")
    .append("x-repeated", "first")
    .append("x-repeated", "second")
    .append("x-repeated", "third")
    .set("x-comma", "a, b,c") // one value that merely contains commas
    .set("x-empty", "")
    .set("X-Upper-Case", "keys are lowercased")
    .set("x-bytes-bin", allBytes)
    .append("x-multi-bin", moreBytes)
    .append("x-multi-bin", allBytes);
}
const sampleKeys = ["x-ascii", "x-repeated", "x-comma", "x-empty", "x-upper-case", "x-bytes-bin", "x-multi-bin"] as const;
const sampleExpected = {
  "x-ascii": ["plain value with spaces ~!@#$%^&*()"],
  "x-repeated": ["first", "second", "third"],
  "x-comma": ["a, b,c"],
  "x-empty": [""],
  "x-upper-case": ["keys are lowercased"],
  "x-bytes-bin": [[...allBytes]],
  "x-multi-bin": [[...moreBytes], [...allBytes]],
};

describe("metadata on the wire", () => {
  let lastRequest: Metadata | undefined;
  let releaseStream: () => void = () => undefined;
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;
  let client: Client<typeof Echo>;

  function respondWithSample(ctx: HandlerContext): void {
    ctx.responseHeader.merge(sample());
    ctx.responseTrailer.merge(sample());
    ctx.responseTrailer.set("x-where", "trailer");
    ctx.responseHeader.set("x-where", "header");
  }

  before(async () => {
    env = await startServer((s) =>
      s.add(Echo, {
        unary(req, ctx) {
          lastRequest = ctx.requestMetadata;
          if (req.message === "respond-with-sample") respondWithSample(ctx);
          return { message: req.message };
        },
        async *serverStream(req, ctx) {
          respondWithSample(ctx);
          if (req.message === "early-header") {
            ctx.sendHeader();
            // Nothing is sent until the test saw the header arrive.
            await new Promise<void>((resolve) => (releaseStream = resolve));
          }
          yield* echoService.serverStream(req, ctx);
        },
      }),
    );
    channel = createChannel(env.target, credentials.insecure());
    client = createClient(Echo, channel);
  });
  after(async () => {
    releaseStream();
    channel.close();
    await env.close();
  });

  test("request metadata reaches ctx.requestMetadata: ASCII, -bin and repeated values", async () => {
    await client.unary({ message: "hi" }, { metadata: sample(), timeoutMs: 10_000 });
    assert.deepEqual(entries(lastRequest, sampleKeys), sampleExpected);
  });

  test("request metadata given as a plain object reaches the handler the same way", async () => {
    await client.unary({}, { metadata: { "x-one": "1", "x-list": ["a", "b"], "x-raw-bin": allBytes } });
    assert.deepEqual(entries(lastRequest, ["x-one", "x-list", "x-raw-bin"]), { "x-one": ["1"], "x-list": ["a", "b"], "x-raw-bin": [[...allBytes]] });
  });

  test("ctx.requestMetadata leaves out the headers gRPC itself uses", async () => {
    await client.unary({}, { metadata: { "x-app": "yes" }, timeoutMs: 10_000, compression: "gzip" });
    assert.equal(lastRequest?.getString("x-app"), "yes");
    for (const key of [":path", ":method", ":authority", ":scheme", "content-type", "te", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding"]) {
      assert.equal(lastRequest?.has(key), false, `${key} is not application metadata`);
    }
  });

  test("response headers reach onHeader with the unary response, and trailers reach onTrailer", async () => {
    const events: string[] = [];
    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    const res = await client.unary({ message: "respond-with-sample" }, {
      onHeader: (md) => {
        events.push("header");
        header = md;
      },
      onTrailer: (md) => {
        events.push("trailer");
        trailer = md;
      },
    });
    assert.equal(res.message, "respond-with-sample");
    assert.deepEqual(events, ["header", "trailer"]);
    assert.deepEqual(entries(header, sampleKeys), sampleExpected);
    assert.deepEqual(entries(trailer, sampleKeys), sampleExpected);
    assert.deepEqual(header?.getAll("x-where"), ["header"], "headers and trailers stay apart");
    assert.deepEqual(trailer?.getAll("x-where"), ["trailer"]);
    assert.equal(trailer?.has("grpc-status"), false, "the status is not application metadata");
  });

  test("a server stream's headers arrive before its first message and its trailers after the last", async () => {
    const events: string[] = [];
    let trailer: Metadata | undefined;
    const stream = client.serverStream({ message: "m", count: 3 }, {
      onHeader: () => events.push("header"),
      onTrailer: (md) => {
        events.push("trailer");
        trailer = md;
      },
    });
    for await (const res of stream) events.push(`message ${res.index}`);
    assert.deepEqual(events, ["header", "message 0", "message 1", "message 2", "trailer"]);
    assert.deepEqual(entries(trailer, sampleKeys), sampleExpected);
  });

  test("ctx.sendHeader() sends the headers before any message: the client sees them while the handler still waits", async () => {
    let sawHeader!: (md: Metadata) => void;
    const header = new Promise<Metadata>((resolve) => (sawHeader = resolve));
    const received: number[] = [];
    const stream = client.serverStream({ message: "early-header", count: 2 }, {
      timeoutMs: 10_000,
      onHeader: sawHeader,
      // Without early headers the call would only end at its deadline, trailers-only.
      onTrailer: () => sawHeader(new Metadata({ "x-failed": "no header before the trailers" })),
    });
    const reading = (async () => {
      for await (const res of stream) received.push(res.index);
    })();
    const md = await header;
    assert.equal(md.has("x-failed"), false, "the headers arrived before the call ended");
    assert.deepEqual(received, [], "no message has been sent yet");
    assert.deepEqual(entries(md, sampleKeys), sampleExpected);
    releaseStream();
    await reading;
    assert.deepEqual(received, [0, 1]);
  });
});

describe("reserved metadata keys", () => {
  const reservedKeys = [
    "grpc-status", "grpc-message", "grpc-status-details-bin", "grpc-timeout", "grpc-encoding",
    "grpc-accept-encoding", "grpc-custom-thing", "Grpc-Status", "content-type", "te", "connection",
    "transfer-encoding", "host", ":path", ":authority",
  ];
  for (const key of reservedKeys) {
    test(`an application cannot set ${JSON.stringify(key)}`, () => {
      assert.throws(() => new Metadata().set(key, "x"), TypeError);
      assert.throws(() => new Metadata().append(key, "x"), TypeError);
      assert.throws(() => new Metadata({ [key]: "x" }), TypeError);
    });
  }

  const invalid: Array<[string, string, MetadataValue]> = [
    ["a key with a space", "x key", "v"],
    ["a key with non-ASCII", "x-clé", "v"],
    ["a value with a newline", "x-header", "line\r\nx-injected: 1"],
    ["a non-ASCII value", "x-header", "café"],
    ["a string for a -bin key", "x-data-bin", "not bytes"],
    ["bytes for an ASCII key", "x-data", new Uint8Array([1])],
  ];
  for (const [what, key, value] of invalid) {
    test(`metadata refuses ${what}`, () => {
      assert.throws(() => new Metadata().set(key, value), TypeError);
    });
  }

  let handlerRan = false;
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;
  let client: Client<typeof Echo>;
  before(async () => {
    env = await startServer((s) =>
      s.add(Echo, {
        unary(req, ctx) {
          handlerRan = true;
          // A handler trying to forge the status through metadata.
          if (req.message === "header") ctx.responseHeader.set("grpc-status", "0");
          if (req.message === "trailer") ctx.responseTrailer.set("grpc-status", "0");
          return { message: "forged" };
        },
      }),
    );
    channel = createChannel(env.target, credentials.insecure());
    client = createClient(Echo, channel);
  });
  after(async () => {
    channel.close();
    await env.close();
  });

  test("a call whose metadata names a reserved key is refused before anything is sent", async () => {
    handlerRan = false;
    await assert.rejects(client.unary({}, { metadata: { "grpc-timeout": "1S" } }), TypeError);
    await assert.rejects(client.unary({}, { metadata: { "content-type": "application/json" } }), TypeError);
    assert.equal(handlerRan, false);
  });

  for (const where of ["header", "trailer"]) {
    test(`a handler setting grpc-status on ctx.response${where === "header" ? "Header" : "Trailer"} fails with UNKNOWN instead of forging a status`, async () => {
      const err = await client.unary({ message: where }).then(
        () => assert.fail("the forged status was accepted"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof GrpcError);
      assert.equal(err.code, Code.UNKNOWN);
    });
  }
});
