/**
 * The node:http2 client transport: one HTTP/2 connection (TCP, TLS with ALPN h2, or a
 * unix socket) and its request streams. Like the server side, listeners are shared
 * module functions that find their sink on the stream.
 */
import * as http2 from "node:http2";
import * as net from "node:net";
import { checkServerIdentity as defaultCheckServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from "node:tls";
import { headersFromRawPairs } from "../../protocol/metadata.js";
import type { ClientConnectOptions, ClientStreamSink, ClientTransport, ClientTransportStream, Headers, PeerInfo } from "../types.js";

export type NodeHttp2ConnectOptions = ClientConnectOptions;

const kSink = Symbol("sink");
type StreamWithSink = http2.ClientHttp2Stream & { [kSink]: ClientStreamSink; lastError?: Error; owner?: http2.ClientHttp2Session; transport?: NodeHttp2ClientTransport };

function onResponse(this: StreamWithSink, _headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]): void {
  this[kSink].onHeaders(headersFromRawPairs(rawHeaders), (flags & 0x1) !== 0);
}
function onData(this: StreamWithSink, chunk: Buffer): void {
  this[kSink].onData(chunk);
}
function onTrailers(this: StreamWithSink, _trailers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]): void {
  this[kSink].onTrailers(headersFromRawPairs(rawHeaders));
}
function onDrain(this: StreamWithSink): void {
  this[kSink].onDrain();
}
function onError(this: StreamWithSink, error: Error): void {
  this.lastError = error;
}
function onClose(this: StreamWithSink): void {
  if (this.transport !== undefined) this.transport.activeStreams--;
  const rstCode = this.rstCode ?? 0;
  let connectionError: Error | undefined;
  const error = this.lastError as (Error & { code?: string }) | undefined;
  if (error !== undefined && error.code !== "ERR_HTTP2_STREAM_ERROR") {
    // Not a RST_STREAM from the peer: the connection failed, or never came up.
    connectionError = error;
  } else if (error === undefined && this.owner?.destroyed === true) {
    // node:http2 closes the streams of a lost (or locally destroyed) connection with
    // CANCEL or 0 and no error.
    connectionError = new Error("connection lost");
  }
  this[kSink].onClose(rstCode, connectionError);
}

class NodeClientStream implements ClientTransportStream {
  constructor(private readonly stream: StreamWithSink) {}

  write(data: Uint8Array): boolean {
    if (this.stream.destroyed || this.stream.writableEnded) return true;
    return this.stream.write(data);
  }

  end(data?: Uint8Array): void {
    if (this.stream.destroyed || this.stream.writableEnded) return;
    if (data === undefined) this.stream.end();
    else this.stream.end(data);
  }

  reset(code: number): void {
    if (!this.stream.destroyed) this.stream.close(code);
  }

  pause(): void {
    this.stream.pause();
  }

  resume(): void {
    this.stream.resume();
  }
}

export class NodeHttp2ClientTransport implements ClientTransport {
  private readonly session: http2.ClientHttp2Session;
  private goaway = false;
  private peerInfo: PeerInfo | undefined;
  private keepaliveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Streams opened and not yet closed. */
  activeStreams = 0;

  constructor(private readonly options: NodeHttp2ConnectOptions) {
    const { address, tls } = options;
    const authority = "path" in address ? "http://localhost" : `${tls ? "https" : "http"}://${formatHost(address.host)}:${address.port}`;
    const connectOptions: http2.SecureClientSessionOptions = {};
    // We open the socket ourselves, so its own 'close' is seen: node:http2 can destroy a
    // session whose TLS peer rejected it after the handshake without emitting 'close'.
    let socket: net.Socket;
    if (options.socket !== undefined && tls === undefined) {
      socket = options.socket;
    } else if ("path" in address) {
      socket = net.connect(address.path);
    } else if (tls === undefined) {
      // Small gRPC frames must not wait for Nagle.
      socket = net.connect({ host: address.host, port: address.port, noDelay: true });
    } else {
      const serverName = tls.serverName;
      socket = tlsConnect({
        host: address.host,
        port: address.port,
        ...(options.socket !== undefined && { socket: options.socket }),
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        servername: serverName ?? (net.isIP(address.host) ? undefined : address.host),
        rejectUnauthorized: tls.rejectUnauthorized ?? true,
        ALPNProtocols: ["h2"],
        minVersion: "TLSv1.2",
        // (node asserts when the key is present but undefined)
        ...(serverName !== undefined && { checkServerIdentity: (_host: string, cert: PeerCertificate) => defaultCheckServerIdentity(serverName, cert) }),
      });
      socket.setNoDelay(true);
    }
    connectOptions.createConnection = () => socket;
    const session = http2.connect(authority, connectOptions);
    this.session = session;
    let closeError: Error | undefined;
    let closed = false;
    const onClosed = () => {
      if (closed) return;
      closed = true;
      this.goaway = true;
      clearTimeout(this.keepaliveTimer);
      options.onClose?.(closeError);
    };
    session.on("error", (err: Error) => {
      closeError = err;
    });
    socket.on("error", (err: Error) => {
      // E.g. a TLS alert after the handshake (a client certificate refused): node:http2
      // then leaves socket and session half-open without a 'close'; end them here.
      closeError ??= err;
      socket.destroy();
      if (!session.destroyed) session.destroy();
      setImmediate(onClosed);
    });
    // Established once the server's SETTINGS arrive, not at TCP (or TLS) connect: a
    // socket that accepts and closes at once must count as a failed attempt (with backoff).
    session.once("remoteSettings", () => {
      this.scheduleKeepalive();
      options.onConnect?.();
    });
    session.on("goaway", (errorCode: number, _lastStreamId: number, opaqueData?: Buffer) => {
      this.goaway = true;
      options.onGoaway?.(errorCode, opaqueData === undefined ? "" : opaqueData.toString("latin1"));
    });
    session.once("close", onClosed);
    socket.once("close", () => {
      if (!session.destroyed) session.destroy();
      // node:http2 emits the session's 'close' after its streams closed; if it never does, the socket's close stands in.
      setImmediate(onClosed);
    });
  }

  private scheduleKeepalive(): void {
    const keepalive = this.options.keepalive;
    if (keepalive === undefined || !Number.isFinite(keepalive.timeMs)) return;
    this.keepaliveTimer = setTimeout(() => this.sendKeepalive(), keepalive.timeMs);
    this.keepaliveTimer.unref?.();
  }

  private sendKeepalive(): void {
    const keepalive = this.options.keepalive!;
    if (this.session.destroyed) return;
    if (this.activeStreams === 0 && !keepalive.permitWithoutCalls) return this.scheduleKeepalive();
    // No answer within the timeout: the peer (or the path to it) is dead.
    const timeout = setTimeout(() => this.session.destroy(new Error(`keepalive ping not answered within ${keepalive.timeoutMs} ms`)), keepalive.timeoutMs);
    timeout.unref?.();
    const sent = this.session.ping((err) => {
      clearTimeout(timeout);
      if (err === null) this.scheduleKeepalive();
    });
    if (!sent) clearTimeout(timeout);
  }

  get usable(): boolean {
    return !this.goaway && !this.session.closed && !this.session.destroyed;
  }

  get peer(): PeerInfo | undefined {
    if (this.peerInfo !== undefined) return this.peerInfo;
    const socket = this.session.socket as net.Socket | TLSSocket | undefined;
    if (socket === undefined || socket.remoteAddress === undefined) return undefined;
    const secure = "encrypted" in socket && socket.encrypted === true;
    const address = socket.remoteFamily === "IPv6" ? `ipv6:[${socket.remoteAddress}]:${socket.remotePort}` : `ipv4:${socket.remoteAddress}:${socket.remotePort}`;
    const certificate = secure ? (socket as TLSSocket).getPeerCertificate() : undefined;
    this.peerInfo = { address, secure, certificate };
    return this.peerInfo;
  }

  request(headers: Headers, sink: ClientStreamSink): ClientTransportStream {
    const stream = this.session.request(headers as http2.OutgoingHttpHeaders, { endStream: false }) as StreamWithSink;
    stream[kSink] = sink;
    stream.owner = this.session;
    stream.transport = this;
    this.activeStreams++;
    stream.on("response", onResponse);
    stream.on("data", onData);
    stream.on("trailers", onTrailers);
    stream.on("drain", onDrain);
    stream.on("error", onError);
    stream.on("close", onClose);
    return new NodeClientStream(stream);
  }

  close(): void {
    this.goaway = true;
    if (!this.session.closed) this.session.close();
  }

  destroy(): void {
    this.goaway = true;
    clearTimeout(this.keepaliveTimer);
    this.session.destroy();
  }
}

function formatHost(host: string): string {
  return net.isIPv6(host) ? `[${host}]` : host;
}

