/**
 * The ceiling for anything built on node:http2: the bench service on node:http2's
 * core API with no framework and no Protobuf runtime, messages framed and echoed by
 * hand (lib/grpc-wire.ts). A gRPC library on node:http2 can approach it, not pass it.
 */
import { createServer, type ServerHttp2Stream, type IncomingHttpHeaders } from "node:http2";
import { decodeTwoVarints, encodePayload, encodeSummary, frameMessage, FrameReader, payloadBodyLength } from "../lib/grpc-wire.js";
import { counters, runBenchServer } from "./harness.js";

const responseHeaders = { ":status": 200, "content-type": "application/grpc" };

function respond(stream: ServerHttp2Stream): void {
  stream.respond(responseHeaders, { waitForTrailers: true });
  stream.once("wantTrailers", () => {
    counters.okCalls++;
    stream.sendTrailers({ "grpc-status": "0" });
  });
}

function fail(stream: ServerHttp2Stream, message: string): void {
  if (stream.headersSent) stream.close();
  else stream.respond({ ...responseHeaders, "grpc-status": "13", "grpc-message": encodeURIComponent(message) }, { endStream: true });
}

function readAll(stream: ServerHttp2Stream, then: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("end", () => {
    // A request the peer cancelled mid-body also ends; there is nobody left to answer.
    if (!stream.destroyed) then(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  });
}

/** The one message of a unary request body, or undefined when the body is not exactly one frame. */
function singleMessage(body: Buffer): Buffer | undefined {
  if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) return undefined;
  return body.subarray(5);
}

function unary(stream: ServerHttp2Stream): void {
  readAll(stream, (body) => {
    // Payload in, Payload out: the request frame is the response frame.
    if (singleMessage(body) === undefined) return fail(stream, "expected one message");
    respond(stream);
    stream.end(body);
  });
}

function serverStream(stream: ServerHttp2Stream): void {
  readAll(stream, (body) => {
    const message = singleMessage(body);
    if (message === undefined) return fail(stream, "expected one message");
    const [count, size] = decodeTwoVarints(message);
    const frame = frameMessage(encodePayload(new Uint8Array(size)));
    respond(stream);
    let sent = 0;
    const writeSome = () => {
      while (sent < count) {
        sent++;
        counters.messages++;
        if (!stream.write(frame)) return void stream.once("drain", writeSome);
      }
      stream.end();
    };
    writeSome();
  });
}

function clientStream(stream: ServerHttp2Stream): void {
  let count = 0;
  let bytes = 0;
  const reader = new FrameReader((payload) => {
    count++;
    bytes += payloadBodyLength(payload);
  });
  stream.on("data", (chunk: Buffer) => reader.push(chunk));
  stream.on("end", () => {
    if (stream.destroyed) return;
    if (reader.midMessage) return fail(stream, "stream ended mid-message");
    counters.messages += count;
    respond(stream);
    stream.end(frameMessage(encodeSummary(count, bytes)));
  });
}

function bidi(stream: ServerHttp2Stream): void {
  respond(stream);
  const reader = new FrameReader((payload) => {
    counters.messages++;
    stream.write(frameMessage(payload));
  });
  stream.on("data", (chunk: Buffer) => reader.push(chunk));
  stream.on("end", () => stream.end());
}

const routes: Record<string, (stream: ServerHttp2Stream) => void> = {
  "/grpcts.bench.Bench/Unary": unary,
  "/grpcts.bench.Bench/ServerStream": serverStream,
  "/grpcts.bench.Bench/ClientStream": clientStream,
  "/grpcts.bench.Bench/Bidi": bidi,
};

await runBenchServer(async () => {
  const server = createServer();
  server.on("stream", (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on("error", () => undefined); // a peer's RST_STREAM; nothing to clean up
    const route = routes[headers[":path"] ?? ""];
    if (route === undefined) {
      stream.respond({ ...responseHeaders, "grpc-status": "12" }, { endStream: true });
      return;
    }
    route(stream);
  });
  server.on("sessionError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return address.port;
});
