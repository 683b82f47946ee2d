/**
 * The four call types end to end (grpc-ts client against grpc-ts server on real
 * sockets), written the way users write them: Promises, async generators and
 * for await. Also: calls on one channel share one HTTP/2 connection, and a slow
 * call never holds up the others on it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createChannel, createClient, credentials, type Channel, type Client, type ServiceImpl } from "../src/index.js";
import { Echo, type EchoRequest } from "./gen/echo_pb.js";
import { echoService, startEcho, startServer } from "./helpers/server.js";

/** A promise with its resolve function outside (Promise.withResolvers needs Node 22). */
function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the four call types", () => {
  let env: Awaited<ReturnType<typeof startEcho>>;
  before(async () => {
    env = await startEcho();
  });
  after(() => env.close());

  test("a unary call resolves with the response message", async () => {
    const payload = new Uint8Array([0, 1, 2, 254, 255]);
    const res = await env.client.unary({ message: "hello", payload });
    assert.equal(res.$typeName, "grpcts.test.EchoResponse");
    assert.equal(res.message, "hello");
    assert.deepEqual([...res.payload], [...payload]);
  });

  test("a server stream is an async iterable of every response in order", async () => {
    const got: Array<[number, string]> = [];
    for await (const res of env.client.serverStream({ message: "tick", count: 7 })) got.push([res.index, res.message]);
    assert.deepEqual(got, [0, 1, 2, 3, 4, 5, 6].map((i) => [i, "tick"]));
  });

  test("a server stream with zero responses ends without yielding", async () => {
    const got: unknown[] = [];
    for await (const res of env.client.serverStream({ message: "none", count: 0 })) got.push(res);
    assert.deepEqual(got, []);
  });

  test("client streaming accepts an array of requests", async () => {
    const res = await env.client.clientStream([{ message: "a" }, { message: "b" }, { message: "c" }]);
    assert.equal(res.message, "a,b,c");
    assert.equal(res.index, 3);
  });

  test("client streaming accepts an async iterable of requests", async () => {
    async function* requests() {
      for (const message of ["x", "y"]) {
        await new Promise((resolve) => setImmediate(resolve));
        yield { message };
      }
    }
    const res = await env.client.clientStream(requests());
    assert.equal(res.message, "x,y");
    assert.equal(res.index, 2);
  });

  test("client streaming accepts a sync generator and an empty iterable", async () => {
    function* requests() {
      yield { message: "one" };
      yield { message: "two" };
    }
    assert.equal((await env.client.clientStream(requests())).message, "one,two");
    const empty = await env.client.clientStream(new Set<EchoRequest>());
    assert.equal(empty.message, "");
    assert.equal(empty.index, 0);
  });

  test("a bidi chat gets each answer before sending the next message", async () => {
    // The client sends message n+1 only after the answer to n arrived, so the call
    // deadlocks (and hits its deadline) if either side waits for the other to finish.
    const sent: string[] = [];
    const answers: string[] = [];
    let answered = deferred();
    async function* chat() {
      for (let n = 0; n < 5; n++) {
        answered = deferred();
        sent.push(`line ${n}`);
        yield { message: `line ${n}` };
        await answered.promise;
        assert.equal(answers.length, n + 1, "the answer to the last line arrived before the next line is sent");
      }
    }
    for await (const res of env.client.bidi(chat(), { timeoutMs: 10_000 })) {
      assert.equal(res.message, sent[sent.length - 1], "each answer arrives while the client is still sending");
      answers.push(res.message);
      answered.resolve();
    }
    assert.deepEqual(answers, ["line 0", "line 1", "line 2", "line 3", "line 4"]);
  });

  test("a bidi handler can answer before the client sends anything", async () => {
    const { server, ...rest } = await startServer((s) =>
      s.add(Echo, {
        async *bidi(requests) {
          yield { message: "welcome", index: -1 };
          for await (const req of requests) yield { message: req.message.toUpperCase() };
        },
      }),
    );
    const channel = createChannel(rest.target, credentials.insecure());
    try {
      const client = createClient(Echo, channel);
      const greeted = deferred();
      async function* requests() {
        await greeted.promise; // nothing is sent until the server's greeting arrived
        yield { message: "hi" };
      }
      const got: string[] = [];
      for await (const res of client.bidi(requests(), { timeoutMs: 10_000 })) {
        got.push(res.message);
        greeted.resolve();
      }
      assert.deepEqual(got, ["welcome", "HI"]);
    } finally {
      channel.close();
      await rest.close();
    }
  });
});

describe("one connection, many calls", () => {
  const peers: string[] = [];
  const slowGate = deferred();
  const slowStarted = deferred();
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;
  let client: Client<typeof Echo>;

  const impl: Partial<ServiceImpl<typeof Echo>> = {
    async unary(req, ctx) {
      peers.push(ctx.peer.address);
      if (req.message === "slow") {
        slowStarted.resolve();
        await slowGate.promise;
      }
      return { message: req.message };
    },
    serverStream: echoService.serverStream,
  };

  before(async () => {
    env = await startServer((s) => s.add(Echo, impl));
    channel = createChannel(env.target, credentials.insecure());
    client = createClient(Echo, channel);
  });
  after(async () => {
    slowGate.resolve();
    channel.close();
    await env.close();
  });

  test("100 concurrent calls share one HTTP/2 connection and a slow call does not hold up the fast ones", async () => {
    let slowSettled = false;
    const slow = client.unary({ message: "slow" }).finally(() => (slowSettled = true));
    await slowStarted.promise;

    const fast = await Promise.all(Array.from({ length: 100 }, (_, i) => client.unary({ message: `fast ${i}` })));
    assert.deepEqual(fast.map((r) => r.message), Array.from({ length: 100 }, (_, i) => `fast ${i}`));
    assert.equal(slowSettled, false, "the slow call is still pending after every fast call finished");

    slowGate.resolve();
    assert.equal((await slow).message, "slow");

    assert.equal(peers.length, 101);
    assert.match(peers[0]!, /^ipv4:127\.0\.0\.1:\d+$/);
    assert.deepEqual(new Set(peers), new Set([peers[0]]), "every call came from the same client address and port");
  });

  test("streams of concurrent server-streaming calls interleave without mixing messages", async () => {
    const results = await Promise.all(
      ["a", "b", "c", "d"].map(async (message) => {
        const got: string[] = [];
        for await (const res of client.serverStream({ message, count: 20, delayMs: 1 })) got.push(`${res.message}${res.index}`);
        return got;
      }),
    );
    for (const [i, message] of ["a", "b", "c", "d"].entries()) {
      assert.deepEqual(results[i], Array.from({ length: 20 }, (_, n) => `${message}${n}`));
    }
  });
});
