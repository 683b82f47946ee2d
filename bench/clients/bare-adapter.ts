/**
 * A bare node:http2 gRPC client: framing and the bench messages by hand, no
 * library. It is the floor for client-side costs on node:http2, and the one load
 * client of ours that drives every server in the shapes h2load cannot (ping-pong,
 * idle connections, thousands of open streams).
 */
import { connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { decodeTwoVarints, encodePayload, encodeStreamRequest, frameMessage, FrameReader, payloadBodyLength } from "../lib/grpc-wire.js";
import { clientMain, type ClientAdapter, type PingPongStream } from "./driver.js";

const methodPath = (name: string) => `/grpcts.bench.Bench/${name}`;

function requestHeaders(method: string) {
  return { ":method": "POST", ":path": methodPath(method), "content-type": "application/grpc", te: "trailers" };
}

/** Settles when the stream closes: OK status (from trailers, or a trailers-only response) or an error. */
function grpcStatus(stream: ClientHttp2Stream): Promise<void> {
  return new Promise((resolve, reject) => {
    let status: string | undefined;
    let message: string | undefined;
    const read = (headers: IncomingHttpHeaders) => {
      const value = headers["grpc-status"];
      if (typeof value === "string") {
        status = value;
        message = typeof headers["grpc-message"] === "string" ? decodeURIComponent(headers["grpc-message"]) : undefined;
      }
    };
    stream.on("response", read);
    stream.on("trailers", read);
    stream.on("error", reject);
    stream.on("close", () => {
      if (status === "0") resolve();
      else reject(new Error(`call ended with grpc-status ${status ?? "(none)"}${message === undefined ? "" : `: ${message}`}, rst ${stream.rstCode}`));
    });
  });
}

/** Writes `frame` `count` times with back-pressure, then half-closes. */
async function writeFrames(stream: ClientHttp2Stream, frame: Buffer, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    if (!stream.write(frame)) {
      await new Promise<void>((resolve, reject) => {
        const done = (error?: Error) => {
          stream.off("drain", done);
          stream.off("close", done);
          if (error instanceof Error) reject(error);
          else resolve();
        };
        stream.on("drain", done);
        stream.on("close", done);
      });
      if (stream.closed) return;
    }
  }
  stream.end();
}

export function createBareAdapter(session: ClientHttp2Session): ClientAdapter {
  return {
    async unary(body) {
      const stream = session.request(requestHeaders("Unary"));
      let length = -1;
      const reader = new FrameReader((payload) => (length = payloadBodyLength(payload)));
      stream.on("data", (chunk: Buffer) => reader.push(chunk));
      const status = grpcStatus(stream);
      stream.end(frameMessage(encodePayload(body)));
      await status;
      return length;
    },
    async serverStream(count, size) {
      const stream = session.request(requestHeaders("ServerStream"));
      let received = 0;
      const reader = new FrameReader((payload) => {
        if (payloadBodyLength(payload) === size) received++;
      });
      stream.on("data", (chunk: Buffer) => reader.push(chunk));
      const status = grpcStatus(stream);
      stream.end(frameMessage(encodeStreamRequest(count, size)));
      await status;
      return received;
    },
    async clientStream(count, body) {
      const stream = session.request(requestHeaders("ClientStream"));
      let counted = -1;
      const reader = new FrameReader((payload) => (counted = decodeTwoVarints(payload)[0]));
      stream.on("data", (chunk: Buffer) => reader.push(chunk));
      const status = grpcStatus(stream);
      await writeFrames(stream, frameMessage(encodePayload(body)), count);
      await status;
      return counted;
    },
    openPingPong(): PingPongStream {
      const stream = session.request(requestHeaders("Bidi"));
      let pending: { resolve: (length: number) => void; reject: (error: Error) => void } | undefined;
      let failed: Error | undefined;
      const reader = new FrameReader((payload) => {
        const waiter = pending;
        pending = undefined;
        waiter?.resolve(payloadBodyLength(payload));
      });
      stream.on("data", (chunk: Buffer) => reader.push(chunk));
      const status = grpcStatus(stream);
      status.then(
        () => pending?.reject(new Error("the stream ended before the echo")),
        (error: Error) => {
          failed = error;
          pending?.reject(error);
        },
      );
      return {
        roundTrip(body) {
          if (failed !== undefined) return Promise.reject(failed);
          return new Promise<number>((resolve, reject) => {
            pending = { resolve, reject };
            stream.write(frameMessage(encodePayload(body)));
          });
        },
        async end() {
          stream.end();
          await status;
        },
      };
    },
    close() {
      session.close();
    },
  };
}

/** Opens an h2c session to 127.0.0.1:`port` and waits until it is connected. */
export function connectBare(port: number): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://127.0.0.1:${port}`);
    session.once("connect", () => {
      session.off("error", reject);
      session.on("error", () => undefined); // surfaces again as a failed call
      resolve(session);
    });
    session.once("error", reject);
  });
}
