/**
 * Raw node:http2 peers for hand-crafted gRPC traffic: a client that sends exactly the
 * headers and bytes a test gives it and records everything that comes back, and a
 * server whose streams the test answers byte by byte. No gRPC logic beyond the 5-byte
 * message frame lives here, so what a test asserts is what was on the wire.
 */
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

export const { NGHTTP2_NO_ERROR, NGHTTP2_INTERNAL_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

/** One gRPC message frame: flag byte, 4-byte big-endian length, payload. */
export function grpcFrame(payload: Uint8Array, flags = 0): Buffer {
  const out = Buffer.alloc(5 + payload.length);
  out[0] = flags;
  out.writeUInt32BE(payload.length, 1);
  out.set(payload, 5);
  return out;
}

export interface RawFrame {
  readonly flags: number;
  readonly payload: Buffer;
}

/** Splits a complete body into its message frames; throws if it ends mid-frame. */
export function parseGrpcFrames(body: Buffer): RawFrame[] {
  const frames: RawFrame[] = [];
  let pos = 0;
  while (pos < body.length) {
    if (body.length - pos < 5) throw new Error(`body ends inside a frame header at byte ${pos}`);
    const length = body.readUInt32BE(pos + 1);
    if (body.length - pos - 5 < length) throw new Error(`body ends inside a ${length}-byte frame at byte ${pos}`);
    frames.push({ flags: body[pos]!, payload: body.subarray(pos + 5, pos + 5 + length) });
    pos += 5 + length;
  }
  return frames;
}

/** The request headers a well-behaved gRPC client sends, plus `extra` (which may override them). */
export function grpcRequestHeaders(path: string, extra: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders {
  return {
    ":method": "POST",
    ":scheme": "http",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
    ...extra,
  };
}

// ---- client ----

export interface RawResponse {
  /** The first HEADERS block. */
  readonly headers: http2.IncomingHttpHeaders;
  /** True when the first HEADERS block carried END_STREAM (a trailers-only response). */
  readonly trailersOnly: boolean;
  readonly trailers: http2.IncomingHttpHeaders | undefined;
  /** Every DATA byte received, in order. */
  readonly body: Buffer;
  /** The RST_STREAM code the stream closed with, when it closed before the response completed. */
  readonly rstCode: number | undefined;
}

export interface RawRequestOptions {
  /** Written in order, one write each; `gapMs` apart when set (separate DATA frames). */
  body?: readonly Uint8Array[];
  gapMs?: number;
  /** Half-close after the body (default true). When false, the stream is closed once the response is complete. */
  end?: boolean;
}

export interface RawClient {
  readonly session: http2.ClientHttp2Session;
  /** Sends one request and resolves with the complete response (or what came before the stream closed). */
  request(headers: http2.OutgoingHttpHeaders, options?: RawRequestOptions): Promise<RawResponse>;
  close(): Promise<void>;
}

/** An HTTP/2 connection (h2c, prior knowledge) to 127.0.0.1:`port`. */
export async function connectRawClient(port: number): Promise<RawClient> {
  const session = http2.connect(`http://127.0.0.1:${port}`);
  session.on("error", () => {
    // Surfaces through the streams' close; a test asserting on the session checks `session.destroyed`.
  });
  await new Promise<void>((resolve, reject) => {
    session.once("connect", () => resolve());
    session.once("error", reject);
  });
  return {
    session,
    request: (headers, options = {}) => rawRequest(session, headers, options),
    close: () =>
      new Promise<void>((resolve) => {
        if (session.closed || session.destroyed) return resolve();
        session.close(() => resolve());
      }),
  };
}

function rawRequest(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, options: RawRequestOptions): Promise<RawResponse> {
  const stream = session.request(headers, { endStream: false });
  const chunks: Buffer[] = [];
  let responseHeaders: http2.IncomingHttpHeaders = {};
  let trailersOnly = false;
  let trailers: http2.IncomingHttpHeaders | undefined;
  stream.on("response", (h, flags) => {
    responseHeaders = h;
    trailersOnly = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
  });
  stream.on("trailers", (t) => {
    trailers = t;
  });
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  stream.on("error", () => {
    // A reset stream reports through rstCode.
  });
  const result = new Promise<RawResponse>((resolve) => {
    let settled = false;
    const settle = (rstCode: number | undefined) => {
      if (settled) return;
      settled = true;
      resolve({ headers: responseHeaders, trailersOnly, trailers, body: Buffer.concat(chunks), rstCode });
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    };
    stream.on("end", () => settle(undefined));
    stream.on("close", () => settle(stream.rstCode === http2.constants.NGHTTP2_NO_ERROR ? undefined : stream.rstCode));
  });
  void writeBody(stream, options);
  return result;
}

async function writeBody(stream: http2.ClientHttp2Stream, options: RawRequestOptions): Promise<void> {
  const body = options.body ?? [];
  for (let i = 0; i < body.length; i++) {
    if (stream.destroyed) return;
    if (i > 0 && options.gapMs !== undefined) await sleep(options.gapMs);
    if (stream.destroyed) return;
    stream.write(body[i]);
  }
  if (options.end !== false && !stream.destroyed) stream.end();
}

// ---- server ----

export interface RawServer {
  readonly port: number;
  /** "127.0.0.1:<port>" */
  readonly target: string;
  close(): Promise<void>;
}

export type RawStreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

/** An h2c server on 127.0.0.1 with a free port; `onStream` answers every request. */
export async function startRawServer(onStream: RawStreamHandler): Promise<RawServer> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("connection", (socket: Socket) => socket.setNoDelay(true));
  server.on("session", (session) => {
    sessions.add(session);
    session.on("error", () => undefined);
    session.once("close", () => sessions.delete(session));
  });
  server.on("stream", (stream, headers) => {
    stream.on("error", () => undefined);
    onStream(stream, headers);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return {
    port: address.port,
    target: `127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Reads a request body until the client half-closes. */
export function readRequestBody(stream: http2.ServerHttp2Stream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => {
    stream.once("end", () => resolve(Buffer.concat(chunks)));
    stream.once("close", () => resolve(Buffer.concat(chunks)));
  });
}

/** Responds headers, the given body chunks (one write each, `gapMs` apart), then trailers. */
export async function respondGrpc(
  stream: http2.ServerHttp2Stream,
  options: { body?: readonly Uint8Array[]; gapMs?: number; headers?: http2.OutgoingHttpHeaders; trailers?: http2.OutgoingHttpHeaders } = {},
): Promise<void> {
  if (stream.destroyed) return;
  stream.respond({ ":status": 200, "content-type": "application/grpc", ...options.headers }, { waitForTrailers: true });
  stream.once("wantTrailers", () => stream.sendTrailers(options.trailers ?? { "grpc-status": "0" }));
  const body = options.body ?? [];
  for (let i = 0; i < body.length; i++) {
    if (i > 0 && options.gapMs !== undefined) await sleep(options.gapMs);
    if (stream.destroyed) return;
    stream.write(body[i]);
  }
  if (!stream.destroyed) stream.end();
}
