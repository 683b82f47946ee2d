/**
 * Client process: the grpc-ts client (the library under test) under the shared
 * driver, used as a user would: createClient on the generated descriptor, async
 * iterables for streams.
 */
import { createChannel, createClient, credentials } from "../../src/index.js";
import { Bench, type Payload } from "../gen/bench_pb.js";
import { grpcTsTransport } from "../lib/grpc-ts-transport.js";
import { clientMain, type ClientAdapter, type PingPongStream } from "./driver.js";

/** Request messages handed over one at a time: the lockstep side of a ping-pong. */
class RequestFeed implements AsyncIterable<{ body: Uint8Array }> {
  private waiting: ((result: IteratorResult<{ body: Uint8Array }>) => void) | undefined;
  private queued: { body: Uint8Array }[] = [];
  private ended = false;

  push(body: Uint8Array): void {
    const waiter = this.waiting;
    this.waiting = undefined;
    if (waiter !== undefined) waiter({ done: false, value: { body } });
    else this.queued.push({ body });
  }

  end(): void {
    this.ended = true;
    const waiter = this.waiting;
    this.waiting = undefined;
    waiter?.({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): AsyncIterator<{ body: Uint8Array }> {
    return {
      next: () => {
        const value = this.queued.shift();
        if (value !== undefined) return Promise.resolve({ done: false, value });
        if (this.ended) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => (this.waiting = resolve));
      },
    };
  }
}

await clientMain((port) => {
  const channel = createChannel(`127.0.0.1:${port}`, credentials.insecure(), { transport: grpcTsTransport() });
  const client = createClient(Bench, channel);
  const adapter: ClientAdapter = {
    async unary(body) {
      return (await client.unary({ body })).body.length;
    },
    async serverStream(count, size) {
      let received = 0;
      for await (const message of client.serverStream({ count, size })) {
        if (message.body.length === size) received++;
      }
      return received;
    },
    async clientStream(count, body) {
      function* requests() {
        for (let i = 0; i < count; i++) yield { body };
      }
      return (await client.clientStream(requests())).count;
    },
    openPingPong(): PingPongStream {
      const feed = new RequestFeed();
      const responses: AsyncIterator<Payload> = client.bidi(feed)[Symbol.asyncIterator]();
      return {
        async roundTrip(body) {
          feed.push(body);
          const next = await responses.next();
          if (next.done === true) throw new Error("the stream ended before the echo");
          return next.value.body.length;
        },
        async end() {
          feed.end();
          while ((await responses.next()).done !== true);
        },
      };
    },
    close() {
      channel.close();
    },
  };
  return adapter;
});
