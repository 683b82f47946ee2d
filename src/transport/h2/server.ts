/**
 * The server side of our own HTTP/2 transport: a node:net or node:tls listener whose
 * connections (cleartext with prior knowledge, or TLS with ALPN h2) are served by
 * H2Connection, each request stream handed to `onStream` as a ServerTransportStream.
 * It checks requests against RFC 9113 §8 before the gRPC layer sees them, refuses
 * streams past MAX_CONCURRENT_STREAMS, shuts down with a two-phase GOAWAY, and manages
 * its connections (max idle, max age, keepalive: connection-management.ts).
 */
import { bindServer, type ListenTarget } from "../bind.js";
import * as http from "node:http";
import * as net from "node:net";
import * as tls from "node:tls";
import { randomBytes } from "node:crypto";
import type { FrameTarget } from "../../protocol/frame.js";
import { Http2ErrorCode } from "../../protocol/http2/constants.js";
import { checkRequestHeaders, checkTrailers, parseContentLength } from "../../protocol/http2/header-rules.js";
import type { DecodedHeaders } from "../../protocol/http2/hpack-decoder.js";
import type { Headers, PeerInfo, ServerStreamSink, ServerTransportStream, TransportServer } from "../types.js";
import { H2Connection, maxWindowSize } from "./connection.js";
import { ConnectionManager } from "./connection-management.js";
import { resolveH2Limits, type H2Limits, type H2Options } from "./options.js";
import { peerInfoOf } from "./peer.js";
import { H2Stream } from "./stream.js";
import type { DecodedHeaderBlock } from "./stream-frames.js";

export interface H2ServerOptions extends H2Options {
  /** TLS key material; absent for cleartext h2c with prior knowledge. */
  tls?: {
    key: string | Buffer;
    cert: string | Buffer;
    /** CA certificates that client certificates must chain to (mutual TLS). */
    ca?: string | Buffer | (string | Buffer)[];
    /** Ask for a client certificate and refuse connections without a valid one. */
    requireClientCert?: boolean;
  };
  /**
   * Serves HTTP/1.1 on the same port: a cleartext connection that starts with an
   * HTTP/1.x request line instead of the HTTP/2 preface, or a TLS connection that
   * negotiated "http/1.1" with ALPN, is handed to a node:http server with this handler.
   * Without it such connections are refused.
   */
  http1?: (request: http.IncomingMessage, response: http.ServerResponse) => void;
}

/** Hands a socket, and the bytes already read from it, to the HTTP/1.1 server. */
type HandOff = (socket: net.Socket, received: Uint8Array | undefined) => void;

export type { ListenTarget };

class H2ServerStream extends H2Stream implements ServerTransportStream, FrameTarget {
  private sink: ServerStreamSink | undefined;
  /** The response ended (or was given up): later calls do nothing. */
  private finished = false;
  private headersSent = false;

  constructor(conn: H2ServerConnection, id: number, readonly headers: Headers, endStream: boolean) {
    super(conn, id, endStream ? "half-closed-remote" : "open");
  }

  get peer(): PeerInfo {
    return (this.conn as H2ServerConnection).peer;
  }

  /** Our HPACK decoder already keeps repeated names apart (as arrays). */
  get metadataHeaders(): Headers {
    return this.headers;
  }

  attach(sink: ServerStreamSink): void {
    this.sink = sink;
  }

  sendHeaders(headers: Headers): void {
    if (this.finished || this.aborted || this.headersSent) return;
    this.headersSent = true;
    this.sendHeaderBlock(headers, false);
  }

  write(data: Uint8Array, transient = false): boolean {
    if (this.finished || this.aborted) return true;
    return this.writeData(data, transient);
  }

  /** Response messages are encoded straight into the connection's write batch. */
  get dataTarget(): FrameTarget {
    return this;
  }

  /** DATA in place: only after the response headers, and never after the end. */
  reserveFrame(bytes: number): number {
    return this.finished || !this.headersSent ? -1 : this.reserveInPlace(bytes);
  }

  get frameBuffer(): Uint8Array {
    return this.inPlaceBuffer;
  }

  releaseFrame(): void {
    this.releaseInPlace();
  }

  sendTrailers(trailers: Headers, lastData?: Uint8Array, lastDataTransient = false): void {
    if (this.finished) return;
    if (lastData !== undefined && !this.aborted) this.writeData(lastData, lastDataTransient);
    this.finished = true;
    this.endData(trailers);
  }

  respondTrailersOnly(headers: Headers): void {
    if (this.finished) return;
    this.finished = true;
    if (this.aborted || this.headersSent) return;
    this.headersSent = true;
    this.sendHeaderBlock(headers, true);
  }

  reset(code: number): void {
    this.finished = true;
    if (!this.aborted) this.conn.resetStream(this, code, `stream reset by the server with code ${code}`);
  }

  /** A second header block from the client: trailers, which must end the stream (RFC 9113 §8.1). */
  onHeaderBlock(headers: DecodedHeaders, endStream: boolean): void {
    if (!endStream) {
      this.conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, "request trailers without END_STREAM");
      return;
    }
    const bad = checkTrailers(headers);
    if (bad !== undefined) {
      this.conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, bad);
      return;
    }
    if (this.expectedLength !== undefined && this.expectedLength !== this.receivedLength) {
      this.conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, `request ended after ${this.receivedLength} bytes but content-length is ${this.expectedLength}`);
      return;
    }
    this.receiveEnd(headers);
  }

  /** The request ended with its HEADERS frame: tell the reader once it is attached. */
  endedWithHeaders(): void {
    this.finishIncoming(undefined);
  }

  protected override onLocalEnded(): void {
    // The response is complete while the client still sends: ask it to stop, without
    // error (RFC 9113 §8.1, gRPC PROTOCOL-HTTP2).
    this.conn.resetStream(this, Http2ErrorCode.NO_ERROR, "response complete");
  }

  protected deliverData(chunk: Uint8Array): void {
    this.sink?.onData(chunk);
  }

  protected deliverEnd(): void {
    this.sink?.onEnd();
  }

  protected deliverDrain(): void {
    this.sink?.onDrain();
  }

  protected onClosed(): void {}

  protected onAborted(_code: number, _byPeer: boolean, reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.sink?.onAbort(reason);
  }
}

class H2ServerConnection extends H2Connection {
  private peerInfo: PeerInfo | undefined;
  private goawayTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly management: ConnectionManager;

  constructor(
    socket: net.Socket,
    limits: H2Limits,
    private readonly onStream: (stream: ServerTransportStream) => void,
    private readonly onGone: (conn: H2ServerConnection) => void,
    private readonly handOff: HandOff | undefined,
  ) {
    super(socket, true, limits);
    // Our SETTINGS would corrupt an HTTP/1.1 response: wait for the client's preface first.
    this.start(handOff !== undefined);
    this.management = new ConnectionManager(this, limits);
  }

  override onBadPreface(received: Uint8Array): void {
    // An HTTP/1.x request line starts with an upper-case method token (RFC 9112 §3).
    const first = received[0]!;
    if (this.handOff !== undefined && first >= 0x41 && first <= 0x5a) {
      this.management.stop();
      this.detach();
      this.onGone(this);
      this.handOff(this.socket, received);
      return;
    }
    super.onBadPreface(received);
  }

  get peer(): PeerInfo {
    return (this.peerInfo ??= peerInfoOf(this.socket));
  }

  onPeerStream(streamId: number, result: DecodedHeaderBlock, endStream: boolean): void {
    if (this.streams.size >= this.limits.maxConcurrentStreams) {
      // RFC 9113 §5.1.2; refused streams count as resets, so refusing is no free loop either.
      if (!this.takeReset()) return;
      this.streamError(streamId, Http2ErrorCode.REFUSED_STREAM, `more than ${this.limits.maxConcurrentStreams} concurrent streams`);
      return;
    }
    if (result.listTooLarge) {
      // RFC 9113 §10.5.1: answer 431 (with a gRPC status, which gRPC clients read first).
      this.writeHeaders(streamId, {
        ":status": "431",
        "content-type": "application/grpc",
        "grpc-status": "8",
        "grpc-message": `request header list is larger than ${this.limits.maxHeaderListSize} bytes`,
      }, true);
      this.streamError(streamId, Http2ErrorCode.NO_ERROR, "request header list too large");
      return;
    }
    const headers = result.headers;
    const bad = result.malformed ?? checkRequestHeaders(headers, result.pseudoHeaders);
    if (bad !== undefined) {
      this.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, bad);
      return;
    }
    const contentLength = parseContentLength(headers);
    if (contentLength !== undefined && (Number.isNaN(contentLength) || (endStream && contentLength !== 0))) {
      this.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, "content-length does not match the request body");
      return;
    }
    const stream = new H2ServerStream(this, streamId, headers, endStream);
    stream.expectedLength = contentLength;
    this.streams.set(streamId, stream);
    this.onStream(stream);
    if (endStream) stream.endedWithHeaders();
  }

  protected onPeerGoaway(): void {
    // The client opens no more streams; those open finish, then maybeFinish closes.
  }

  /**
   * Graceful close: GOAWAY(2^31-1) and a PING, then GOAWAY(last stream) once it returns
   * (RFC 9113 §6.8), both with `debug` ("max_age", "max_idle"); `onFinalGoaway` runs once
   * the second is sent. Streams already open finish; then the socket closes.
   */
  close(debug = "", onFinalGoaway?: () => void): void {
    if (this.closing || this.dead) return;
    this.closing = true;
    const debugData = new TextEncoder().encode(debug);
    this.goawaySentLastStreamId = maxWindowSize;
    this.output.writer.goaway(maxWindowSize, Http2ErrorCode.NO_ERROR, debugData);
    const secondPhase = () => {
      if (this.goawayTimer !== undefined) clearTimeout(this.goawayTimer);
      this.goawayTimer = undefined;
      if (this.dead || this.goawaySentLastStreamId !== maxWindowSize) return;
      this.goawaySentLastStreamId = this.lastPeerStreamId;
      this.output.writer.goaway(this.lastPeerStreamId, Http2ErrorCode.NO_ERROR, debugData);
      this.output.scheduleFlush();
      onFinalGoaway?.();
      this.maybeFinish();
    };
    this.ping(randomBytes(8), secondPhase);
    this.goawayTimer = setTimeout(secondPhase, this.limits.goawayPingTimeoutMs);
    this.goawayTimer.unref();
  }

  protected override onStreamRemoved(): void {
    this.management.streamClosed();
  }

  protected override onShutdown(): void {
    this.management.stop();
    if (this.goawayTimer !== undefined) clearTimeout(this.goawayTimer);
    this.goawayTimer = undefined;
  }

  protected onSocketClosed(): void {
    this.management.stop();
    if (this.goawayTimer !== undefined) clearTimeout(this.goawayTimer);
    this.goawayTimer = undefined;
    this.onGone(this);
  }
}

/**
 * Listens on `target` and serves HTTP/2 with our own implementation; resolves once
 * bound. `onStream` is called synchronously for each valid request stream and must
 * attach a sink (or answer) before returning.
 */
export function listenH2(target: ListenTarget, options: H2ServerOptions, onStream: (stream: ServerTransportStream) => void): Promise<TransportServer> {
  const limits = resolveH2Limits(options);
  const connections = new Set<H2ServerConnection>();
  let closing = false;
  const onGone = (conn: H2ServerConnection) => connections.delete(conn);
  const http1Server = options.http1 === undefined ? undefined : http.createServer(options.http1);
  // node:http tracks connections (idle ones for close(), timeouts) from its 'listening'
  // event; this server never listens itself, it is handed sockets.
  http1Server?.emit("listening");
  const handOff: HandOff | undefined = http1Server === undefined ? undefined : (socket, received) => {
    if (received !== undefined) {
      socket.pause();
      socket.unshift(Buffer.from(received.buffer, received.byteOffset, received.byteLength));
    }
    http1Server.emit("connection", socket);
    socket.resume();
  };
  const serve = (socket: net.Socket) => {
    if (closing) {
      socket.destroy();
      return;
    }
    connections.add(new H2ServerConnection(socket, limits, onStream, onGone, handOff));
  };

  let server: net.Server;
  if (options.tls === undefined) {
    server = net.createServer({ noDelay: true }, serve);
  } else {
    const t = options.tls;
    server = tls.createServer({
      key: t.key,
      cert: t.cert,
      ca: t.ca,
      requestCert: t.requireClientCert === true,
      rejectUnauthorized: t.requireClientCert === true,
      ALPNProtocols: handOff === undefined ? ["h2"] : ["h2", "http/1.1"],
      minVersion: "TLSv1.2",
    }, (socket: tls.TLSSocket) => {
      if (socket.alpnProtocol === "http/1.1" && handOff !== undefined && !closing) {
        handOff(socket, undefined);
        return;
      }
      // Clients that negotiate nothing speak h2 by prior knowledge; anything else is refused.
      if (socket.alpnProtocol !== "h2" && socket.alpnProtocol !== false) {
        socket.destroy();
        return;
      }
      serve(socket);
    });
    server.on("tlsClientError", () => undefined);
  }
  // TLS sockets still in their handshake belong to no connection yet, and server.close()
  // waits for them (up to the 120 s handshake timeout): they are tracked by peer address
  // until the handshake completes, and destroyed when the server closes.
  const handshaking = new Map<string, net.Socket>();
  const peerKey = (s: net.Socket) => (s.remoteAddress === undefined ? undefined : `${s.remoteAddress}|${s.remotePort}`);
  if (options.tls !== undefined) {
    server.on("connection", (socket: net.Socket) => {
      const key = peerKey(socket);
      if (key === undefined) return;
      handshaking.set(key, socket);
      socket.once("close", () => {
        if (handshaking.get(key) === socket) handshaking.delete(key);
      });
    });
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      const key = peerKey(socket);
      if (key !== undefined) handshaking.delete(key);
    });
  }
  const closedPromise = new Promise<void>((resolve) => server.once("close", () => resolve()));

  return bindServer(server, target).then((address) => {
    server.on("error", () => undefined);
    return {
      address,
      close() {
        closing = true;
        if (server.listening) server.close();
        for (const conn of connections) conn.close();
        // Not yet an HTTP/2 connection (TLS handshake under way): nothing to drain.
        for (const socket of handshaking.values()) socket.destroy();
        // Idle HTTP/1.1 connections close now, busy ones after their response.
        http1Server?.close();
      },
      destroy() {
        closing = true;
        if (server.listening) server.close();
        for (const conn of [...connections]) conn.destroy();
        for (const socket of handshaking.values()) socket.destroy();
        http1Server?.closeAllConnections();
        http1Server?.close();
      },
      closed: () => closedPromise,
    };
  });
}
