/**
 * The node:http2 server transport: one listening socket (TCP or unix, cleartext h2c
 * with prior knowledge or TLS with ALPN h2) handing each request stream to `onStream`.
 * Listeners are shared module functions that find their sink on the stream, so a
 * stream costs no closures.
 */
import { bindServer, type ListenTarget } from "../bind.js";
import { pooledCopy } from "../node-alloc.js";
import * as http2 from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { headersFromRawPairs } from "../../protocol/metadata.js";
import type { Headers, PeerInfo, ServerStreamSink, ServerTransportStream, TransportServer } from "../types.js";

export interface NodeHttp2ServerOptions {
  /** TLS key material; absent for cleartext h2c. */
  tls?: {
    key: string | Buffer;
    cert: string | Buffer;
    /** CA certificates that client certificates must chain to (mutual TLS). */
    ca?: string | Buffer | (string | Buffer)[];
    /** Ask for a client certificate and refuse connections without a valid one. */
    requireClientCert?: boolean;
  };
  /** SETTINGS_MAX_CONCURRENT_STREAMS advertised to clients. */
  maxConcurrentStreams?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: the largest request header block accepted. */
  maxHeaderListSize?: number;
}

export type { ListenTarget };

const kSink = Symbol("sink");
const kOwner = Symbol("owner");
type StreamWithSink = http2.ServerHttp2Stream & { [kSink]?: ServerStreamSink; [kOwner]?: NodeServerStream };
type SessionWithPeer = http2.ServerHttp2Session & { peerInfo?: PeerInfo };

function onData(this: StreamWithSink, chunk: Buffer): void {
  this[kSink]!.onData(chunk);
}
function onEnd(this: StreamWithSink): void {
  this[kSink]!.onEnd();
}
function onDrain(this: StreamWithSink): void {
  this[kSink]!.onDrain();
}
function onClose(this: StreamWithSink): void {
  const owner = this[kOwner]!;
  if (!owner.finished) {
    owner.finished = true;
    this[kSink]?.onAbort(`stream closed by the client (RST_STREAM code ${this.rstCode ?? "none"})`);
  }
}
function onWantTrailers(this: StreamWithSink): void {
  const owner = this[kOwner]!;
  this.sendTrailers(owner.pendingTrailers ?? {});
  stopRequestAfterResponse(this);
}
/**
 * A response complete before the request is follows its END_STREAM with
 * RST_STREAM(NO_ERROR) (RFC 9113 §8.1, as grpc-go does), so the client stops sending
 * and the stream does not stay half-open. node:http2 sends the RST after the trailers.
 */
function stopRequestAfterResponse(stream: http2.ServerHttp2Stream): void {
  // readableEnded (a JS flag) first: stream.state is a call into C++ on every response.
  if (!stream.destroyed && !stream.readableEnded && stream.state.remoteClose === 0) stream.close(http2.constants.NGHTTP2_NO_ERROR);
}
function ignoreError(): void {
  // Stream errors (RST from the peer, a write after close) surface through 'close'.
}

function peerOf(session: SessionWithPeer): PeerInfo {
  if (session.peerInfo !== undefined) return session.peerInfo;
  const socket = session.socket as Socket | TLSSocket;
  const secure = "encrypted" in socket && socket.encrypted === true;
  const family = socket.remoteFamily;
  let address: string;
  if (socket.remoteAddress === undefined) address = "unix:";
  else if (family === "IPv6") address = `ipv6:[${socket.remoteAddress}]:${socket.remotePort}`;
  else address = `ipv4:${socket.remoteAddress}:${socket.remotePort}`;
  let certificate: PeerInfo["certificate"];
  if (secure) {
    const cert = (socket as TLSSocket).getPeerCertificate();
    if (cert !== null && Object.keys(cert).length > 0) certificate = cert;
  }
  const info: PeerInfo = { address, secure, certificate };
  session.peerInfo = info;
  return info;
}

class NodeServerStream implements ServerTransportStream {
  finished = false;
  pendingTrailers: Headers | undefined;
  private peerInfo: PeerInfo | undefined;
  private rawPairs: Headers | undefined;

  constructor(private readonly stream: StreamWithSink, readonly headers: Headers, private readonly rawHeaders: string[]) {
    stream[kOwner] = this;
    stream.on("error", ignoreError);
    stream.on("close", onClose);
  }

  get metadataHeaders(): Headers {
    // Only calls that read their metadata pay for this second header object.
    return (this.rawPairs ??= headersFromRawPairs(this.rawHeaders));
  }

  get peer(): PeerInfo {
    return (this.peerInfo ??= peerOf(this.stream.session as SessionWithPeer));
  }

  attach(sink: ServerStreamSink): void {
    const stream = this.stream;
    stream[kSink] = sink;
    stream.on("data", onData);
    stream.on("end", onEnd);
  }

  sendHeaders(headers: Headers): void {
    if (this.finished || this.stream.destroyed) return;
    this.stream.once("wantTrailers", onWantTrailers);
    this.stream.respond(headers as http2.OutgoingHttpHeaders, { waitForTrailers: true });
  }

  write(data: Uint8Array, transient = false): boolean {
    if (this.finished || this.stream.destroyed) return true;
    // node:http2 keeps a reference to what it has not written yet.
    if (this.stream.write(transient ? pooledCopy(data) : data)) return true;
    // Listened to only once back-pressure happens: most streams never need it.
    if (this.stream.listenerCount("drain") === 0) this.stream.on("drain", onDrain);
    return false;
  }

  sendTrailers(trailers: Headers, lastData?: Uint8Array, lastDataTransient = false): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream.destroyed) return;
    this.pendingTrailers = trailers;
    if (lastData === undefined) this.stream.end();
    else this.stream.end(lastDataTransient ? pooledCopy(lastData) : lastData);
  }

  respondTrailersOnly(headers: Headers): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream.destroyed || this.stream.headersSent) return;
    this.stream.respond(headers as http2.OutgoingHttpHeaders, { endStream: true });
    // Whatever the client still sends is read and dropped, so the stream can close.
    if (this.stream.listenerCount("data") === 0) this.stream.resume();
    stopRequestAfterResponse(this.stream);
  }

  reset(code: number): void {
    this.finished = true;
    if (!this.stream.destroyed) this.stream.close(code);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }
}

/** Starts listening; resolves once bound. */
export function listenNodeHttp2(
  target: ListenTarget,
  options: NodeHttp2ServerOptions,
  onStream: (stream: ServerTransportStream) => void,
): Promise<TransportServer> {
  const settings: http2.Settings = {};
  if (options.maxConcurrentStreams !== undefined) settings.maxConcurrentStreams = options.maxConcurrentStreams;
  if (options.maxHeaderListSize !== undefined) settings.maxHeaderListSize = options.maxHeaderListSize;
  const base = { settings };
  const server = options.tls === undefined
    ? http2.createServer(base)
    : http2.createSecureServer({
        ...base,
        key: options.tls.key,
        cert: options.tls.cert,
        ca: options.tls.ca,
        requestCert: options.tls.requireClientCert === true,
        rejectUnauthorized: options.tls.requireClientCert === true,
        ALPNProtocols: ["h2"],
        minVersion: "TLSv1.2",
      });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.on("error", ignoreError);
    session.once("close", () => sessions.delete(session));
  });
  // Small gRPC frames must not wait for Nagle; the http2 session's socket proxy forbids this later.
  // Raw sockets are tracked too: one still in its TLS handshake, or whose peer never
  // answers the GOAWAY/FIN of a closed session, has no live session to destroy.
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("stream", (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
    onStream(new NodeServerStream(stream, headers as Headers, rawHeaders));
  });
  // Handshake failures and bad prefaces are per connection; never let them crash the server.
  server.on("tlsClientError", ignoreError);
  server.on("sessionError", ignoreError);
  const closedPromise = new Promise<void>((resolve) => server.once("close", () => resolve()));

  return bindServer(server, target).then((address) => {
    server.on("error", ignoreError);
    return {
      address,
      close() {
        if (server.listening) server.close();
        for (const session of sessions) if (!session.closed) session.close();
      },
      destroy() {
        if (server.listening) server.close();
        for (const session of sessions) session.destroy();
        for (const socket of sockets) socket.destroy();
      },
      closed: () => closedPromise,
    };
  });
}
