/**
 * The client side of our own HTTP/2 transport: one connection (TCP, TLS with ALPN h2,
 * or a unix socket) carrying request streams. Requests beyond the server's
 * MAX_CONCURRENT_STREAMS wait in a queue and open as streams close. Responses are
 * checked against RFC 9113 §8 before the gRPC layer sees them.
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { Http2ErrorCode, http2ErrorName } from "../../protocol/http2/constants.js";
import { checkResponseHeaders, checkTrailers, parseContentLength } from "../../protocol/http2/header-rules.js";
import type { DecodedHeaders } from "../../protocol/http2/hpack-decoder.js";
import type { ClientConnectOptions, ClientStreamSink, ClientTransport, ClientTransportStream, Headers, PeerInfo } from "../types.js";
import { H2Connection, maxWindowSize } from "./connection.js";
import { resolveH2Limits, type H2Limits, type H2Options } from "./options.js";
import { peerInfoOf } from "./peer.js";
import { H2Stream } from "./stream.js";

/** Connection options, and our HTTP/2's limits (window sizes, flood guards…). */
export interface H2ConnectOptions extends H2Options, ClientConnectOptions {}

class H2ClientStream extends H2Stream implements ClientTransportStream {
  private gotResponse = false;
  private closeNotified = false;

  constructor(conn: H2ClientConnection, readonly requestHeaders: Headers, private readonly sink: ClientStreamSink) {
    super(conn, 0, "idle");
  }

  /** Sends the request headers on stream `id`, then whatever was written while queued. */
  open(id: number): void {
    this.id = id;
    this.state = "open";
    this.sendWindow = this.conn.peerSettings.initialWindowSize;
    this.conn.writeHeaders(id, this.requestHeaders, false);
    if (!this.flushQueued()) this.conn.output.blocked.add(this);
  }

  write(data: Uint8Array): boolean {
    return this.writeData(data);
  }

  end(data?: Uint8Array): void {
    if (data !== undefined && data.length > 0) this.writeData(data);
    this.endData(undefined);
  }

  reset(code: number): void {
    if (this.aborted || this.closeNotified) return;
    if (this.state === "idle") (this.conn as H2ClientConnection).dequeue(this);
    this.conn.resetStream(this, code, `stream reset by the client with code ${code}`);
  }

  onHeaderBlock(headers: DecodedHeaders, endStream: boolean): void {
    const conn = this.conn;
    if (this.gotResponse) {
      if (!endStream) {
        conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, "a second response header block without END_STREAM");
        return;
      }
      const bad = checkTrailers(headers);
      if (bad !== undefined) {
        conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, bad);
        return;
      }
      this.receiveEnd(headers);
      return;
    }
    const bad = checkResponseHeaders(headers);
    if (bad !== undefined) {
      conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, bad);
      return;
    }
    const status = headers[":status"] as string;
    if (status.charCodeAt(0) === 0x31 && status !== "101") {
      // 1xx: informational, another header block follows (RFC 9113 §8.1).
      if (endStream) conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, "informational response with END_STREAM");
      return;
    }
    const contentLength = parseContentLength(headers);
    if (contentLength !== undefined && Number.isNaN(contentLength)) {
      conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, "invalid content-length in the response");
      return;
    }
    this.expectedLength = contentLength;
    this.gotResponse = true;
    this.sink.onHeaders(headers, endStream);
    if (endStream && !this.aborted) this.receiveEnd(undefined);
  }

  protected deliverData(chunk: Uint8Array): void {
    this.sink.onData(chunk);
  }

  protected deliverEnd(trailers: DecodedHeaders | undefined): void {
    if (trailers !== undefined) this.sink.onTrailers(trailers);
    // The response is complete while we still send: stop, without error (as grpc-go does).
    if (!this.localEnded && !this.aborted) this.conn.resetStream(this, Http2ErrorCode.NO_ERROR, "response complete");
  }

  protected deliverDrain(): void {
    this.sink.onDrain();
  }

  protected onClosed(): void {
    this.notifyClose(Http2ErrorCode.NO_ERROR, undefined);
  }

  protected onAborted(code: number, _byPeer: boolean, _reason: string, error: Error | undefined): void {
    this.notifyClose(code, error);
  }

  private notifyClose(code: number, error: Error | undefined): void {
    if (this.closeNotified) return;
    this.closeNotified = true;
    this.sink.onClose(code, error);
  }
}

class H2ClientConnection extends H2Connection {
  /** Requests waiting for a stream slot (the server's MAX_CONCURRENT_STREAMS). */
  private readonly queued: H2ClientStream[] = [];
  private established = false;
  private keepaliveTimer: ReturnType<typeof setTimeout> | undefined;
  private keepalivePings = 0;

  constructor(socket: net.Socket, limits: H2Limits, private readonly options: H2ConnectOptions) {
    super(socket, false, limits);
    this.start();
  }

  get acceptsStreams(): boolean {
    return !this.dead && !this.closing && !this.goawayReceived;
  }

  request(headers: Headers, sink: ClientStreamSink): H2ClientStream {
    const stream = new H2ClientStream(this, headers, sink);
    if (!this.acceptsStreams) {
      // Reported asynchronously: the caller has not stored the stream yet.
      const error = this.dead ? (this.error ?? new Error("connection closed")) : undefined;
      queueMicrotask(() => stream.abort(Http2ErrorCode.REFUSED_STREAM, false, "connection is closing", error));
      return stream;
    }
    if (this.queued.length === 0 && this.streams.size < this.peerSettings.maxConcurrentStreams) this.openStream(stream);
    else this.queued.push(stream);
    return stream;
  }

  dequeue(stream: H2ClientStream): void {
    const at = this.queued.indexOf(stream);
    if (at >= 0) this.queued.splice(at, 1);
  }

  private openStream(stream: H2ClientStream): void {
    const id = this.nextStreamId;
    if (id > maxWindowSize) {
      // Stream ids are spent: this connection takes no more requests.
      this.closing = true;
      stream.abort(Http2ErrorCode.REFUSED_STREAM, false, "stream ids exhausted", undefined);
      return;
    }
    this.nextStreamId += 2;
    this.streams.set(id, stream);
    stream.open(id);
  }

  private openQueued(): void {
    while (this.queued.length > 0 && this.streams.size < this.peerSettings.maxConcurrentStreams && !this.dead) {
      this.openStream(this.queued.shift()!);
    }
  }

  onPeerStream(streamId: number): void {
    this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `server opened stream ${streamId}`);
  }

  protected override onPeerSettings(): void {
    if (!this.established) {
      this.established = true;
      this.scheduleKeepalive();
      this.options.onConnect?.();
    }
    this.openQueued();
  }

  private scheduleKeepalive(): void {
    const keepalive = this.options.keepalive;
    if (keepalive === undefined || !Number.isFinite(keepalive.timeMs) || this.dead) return;
    this.keepaliveTimer = setTimeout(() => this.sendKeepalive(), keepalive.timeMs);
    this.keepaliveTimer.unref();
  }

  private sendKeepalive(): void {
    const keepalive = this.options.keepalive!;
    if (this.dead) return;
    if (this.streams.size === 0 && !keepalive.permitWithoutCalls) {
      this.scheduleKeepalive();
      return;
    }
    // No ACK within the timeout: the server (or the path to it) is gone.
    this.keepaliveTimer = setTimeout(() => {
      this.destroy(new Error(`keepalive ping not answered within ${keepalive.timeoutMs} ms`));
    }, keepalive.timeoutMs);
    this.keepaliveTimer.unref();
    const data = new Uint8Array(8);
    new DataView(data.buffer).setUint32(4, ++this.keepalivePings);
    data[0] = 0x6b; // "k": never equal to the PINGs of a two-phase GOAWAY
    this.ping(data, () => {
      clearTimeout(this.keepaliveTimer);
      this.scheduleKeepalive();
    });
  }

  protected override onStreamRemoved(): void {
    this.openQueued();
  }

  protected onPeerGoaway(lastStreamId: number, errorCode: number, debug: string): void {
    // A GOAWAY with an error (ENHANCE_YOUR_CALM "too_many_pings"…) is why the streams still open will fail.
    if (errorCode !== Http2ErrorCode.NO_ERROR) this.error ??= new Error(`the server sent GOAWAY ${http2ErrorName(errorCode)}${debug === "" ? "" : ` (${debug})`}`);
    // Streams above lastStreamId were never processed: safe to retry elsewhere.
    for (const stream of [...this.streams.values()]) {
      if (stream.id > lastStreamId) stream.abort(Http2ErrorCode.REFUSED_STREAM, true, "stream not processed before GOAWAY", undefined);
    }
    for (const stream of this.queued.splice(0)) stream.abort(Http2ErrorCode.REFUSED_STREAM, true, "connection received GOAWAY", undefined);
    this.options.onGoaway?.(errorCode, debug);
  }

  protected override maybeFinish(): void {
    if (this.queued.length > 0) return;
    super.maybeFinish();
  }

  protected override onShutdown(error: Error): void {
    clearTimeout(this.keepaliveTimer);
    for (const stream of this.queued.splice(0)) stream.abort(Http2ErrorCode.REFUSED_STREAM, false, error.message, error);
  }

  /** GOAWAY; streams in flight (and queued) finish, then the socket closes. */
  close(): void {
    if (this.closing || this.dead) return;
    this.closing = true;
    this.output.writer.goaway(0, Http2ErrorCode.NO_ERROR);
    this.output.scheduleFlush();
    this.maybeFinish();
  }

  protected onSocketClosed(): void {
    clearTimeout(this.keepaliveTimer);
    this.options.onClose?.(this.error);
  }
}

const clientMaxHeaderListSize = 65_535;

function withoutUndefined(options: H2ConnectOptions): H2Options {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) if (value !== undefined) out[key] = value;
  return out as H2Options;
}

/** A client connection of our own HTTP/2 implementation, behind the ClientTransport seam. */
export class H2ClientTransport implements ClientTransport {
  private readonly conn: H2ClientConnection;
  private peerInfo: PeerInfo | undefined;
  private connected = false;

  constructor(options: H2ConnectOptions) {
    const { address, tls: tlsOptions } = options;
    const connected = tlsOptions === undefined ? options.socket : undefined;
    let socket: net.Socket;
    if (connected !== undefined) {
      socket = connected;
    } else if ("path" in address) {
      socket = net.connect(address.path);
    } else if (tlsOptions === undefined) {
      socket = net.connect({ host: address.host, port: address.port, noDelay: true });
    } else {
      const serverName = tlsOptions.serverName ?? (net.isIP(address.host) ? undefined : address.host);
      const tlsSocket = tls.connect({
        host: address.host,
        port: address.port,
        ...(options.socket !== undefined && { socket: options.socket }),
        ca: tlsOptions.ca,
        cert: tlsOptions.cert,
        key: tlsOptions.key,
        servername: serverName,
        rejectUnauthorized: tlsOptions.rejectUnauthorized ?? true,
        ALPNProtocols: ["h2"],
        minVersion: "TLSv1.2",
        // (node asserts when the key is present but undefined)
        ...(tlsOptions.serverName !== undefined && { checkServerIdentity: (_host: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(tlsOptions.serverName!, cert) }),
      });
      tlsSocket.once("secureConnect", () => {
        if (tlsSocket.alpnProtocol !== "h2") {
          tlsSocket.destroy(new Error(`the server did not negotiate h2 with ALPN (got ${String(tlsSocket.alpnProtocol)})`));
        }
      });
      socket = tlsSocket;
    }
    if (connected !== undefined) {
      this.connected = true;
    } else {
      socket.once(tlsOptions === undefined || "path" in address ? "connect" : "secureConnect", () => {
        this.connected = true;
      });
    }
    // As node:http2 clients: responses may carry header lists of up to 64 KiB unless told otherwise.
    const limits = resolveH2Limits({ maxHeaderListSize: clientMaxHeaderListSize, ...withoutUndefined(options) });
    this.conn = new H2ClientConnection(socket, limits, options);
  }

  get usable(): boolean {
    return this.conn.acceptsStreams;
  }

  get peer(): PeerInfo | undefined {
    if (this.peerInfo !== undefined) return this.peerInfo;
    if (!this.connected || this.conn.socket.remoteAddress === undefined) return undefined;
    return (this.peerInfo = peerInfoOf(this.conn.socket));
  }

  request(headers: Headers, sink: ClientStreamSink): ClientTransportStream {
    return this.conn.request(headers, sink);
  }

  close(): void {
    this.conn.close();
  }

  destroy(): void {
    this.conn.destroy();
  }
}
