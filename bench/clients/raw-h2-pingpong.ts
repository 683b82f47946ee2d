/**
 * Client process: the lockstep ping-pong load client, a minimal HTTP/2 client over
 * node:net (raw-h2-connection.ts) under the shared driver, so warm-up, window,
 * latency per round trip and report are those of every other client. It drives
 * every server the same way and costs far less per message than node:http2's
 * client, which capped every server near 75k msgs/s on its core. Ping-pong only.
 */
import { encodePayload, frameMessage, payloadBodyLength } from "../lib/grpc-wire.js";
import { clientMain, type ClientAdapter, type PingPongStream } from "./driver.js";
import { RawH2Connection } from "./raw-h2-connection.js";

const bidiPath = "/grpcts.bench.Bench/Bidi";

function pingPongOnly(): Promise<never> {
  return Promise.reject(new Error("the raw HTTP/2 load client only runs ping-pong"));
}

/** One Bench.Bidi stream: each round trip sends one message and waits for its echo. */
function openPingPong(connection: RawH2Connection): PingPongStream {
  let pending: { resolve: (length: number) => void; reject: (error: Error) => void } | undefined;
  /** Why no further round trip can succeed: the stream failed, ended, or echoed unasked. */
  let broken: Error | undefined;
  let settle: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const closed = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  closed.catch(() => undefined); // the failure reaches the driver through roundTrip or end
  const stream = connection.openStream(bidiPath, {
    onMessage(payload) {
      const waiter = pending;
      pending = undefined;
      if (waiter === undefined) broken ??= new Error("an echo arrived with no message outstanding");
      else waiter.resolve(payloadBodyLength(payload));
    },
    onClose(error) {
      broken ??= error ?? new Error("the stream ended before the echo");
      const waiter = pending;
      pending = undefined;
      waiter?.reject(broken);
      if (error === undefined) settle?.resolve();
      else settle?.reject(error);
    },
  });
  let lastBody: Uint8Array | undefined;
  let lastFrame: Buffer = Buffer.alloc(0);
  return {
    roundTrip(body) {
      if (broken !== undefined) return Promise.reject(broken);
      if (body !== lastBody) {
        lastBody = body;
        lastFrame = frameMessage(encodePayload(body));
      }
      return new Promise<number>((resolve, reject) => {
        pending = { resolve, reject };
        stream.sendMessage(lastFrame);
      });
    },
    end() {
      stream.end();
      return closed;
    },
  };
}

await clientMain(async (port): Promise<ClientAdapter> => {
  const connection = await RawH2Connection.open(port);
  return {
    unary: pingPongOnly,
    serverStream: pingPongOnly,
    clientStream: pingPongOnly,
    openPingPong: () => openPingPong(connection),
    close: () => connection.close(),
  };
});
