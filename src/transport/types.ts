/**
 * The seam between gRPC and HTTP/2: what the client and server layers need of a
 * connection and its streams, and nothing more. Implementations: node-http2/ (on
 * node:http2). Sinks are set once per stream by the layer above; they are called
 * synchronously from socket events and must not throw.
 */
import type { Socket } from "node:net";
import type { PeerCertificate } from "node:tls";
import type { FrameTarget } from "../protocol/frame.js";
import type { Headers } from "../protocol/metadata.js";

export type { Headers };

/** RST_STREAM and GOAWAY error codes (RFC 9113 §7), defined with the frames. */
export { Http2ErrorCode } from "../protocol/http2/constants.js";

export interface PeerInfo {
  /** "ipv4:127.0.0.1:1234", "ipv6:[::1]:1234" or "unix:/path", as gRPC peers name them. */
  readonly address: string;
  /** True on TLS connections. */
  readonly secure: boolean;
  /** The client's certificate on a mutual-TLS connection (server side), or the server's (client side). */
  readonly certificate?: PeerCertificate;
}

// ---- server side ----

export interface ServerStreamSink {
  /** Request body bytes, in order. */
  onData(chunk: Uint8Array): void;
  /** The client half-closed (END_STREAM). */
  onEnd(): void;
  /** The stream ended before the response finished: RST_STREAM from the peer, or the connection died. */
  onAbort(reason: string): void;
  /** The transport can take more response bytes after `write` returned false. */
  onDrain(): void;
}

/** One incoming request stream. */
export interface ServerTransportStream {
  /**
   * Request headers, pseudo-headers included. A repeated header may appear joined by
   * ", " here (node:http2 joins them); read metadata from `metadataHeaders`.
   */
  readonly headers: Headers;
  /** The request headers with repeated names kept apart, built on first use. */
  readonly metadataHeaders: Headers;
  readonly peer: PeerInfo;
  attach(sink: ServerStreamSink): void;
  /** Response headers (HEADERS without END_STREAM). At most once. */
  sendHeaders(headers: Headers): void;
  /**
   * Response body bytes; false means wait for `onDrain` before writing more. With
   * `transient`, the caller reuses `data`'s memory as soon as this returns, so the
   * transport copies whatever it keeps.
   */
  write(data: Uint8Array, transient?: boolean): boolean;
  /**
   * Where a transport that can take response bytes in place lends them: a reservation
   * is DATA that leaves as written, with no copy, in order with `write`; room is lent
   * only when the bytes can go out now, so a writer needs no drain after it. Absent
   * when the transport has no such memory.
   */
  readonly dataTarget?: FrameTarget;
  /**
   * Ends the response with trailers; headers must have been sent. `lastData`, when
   * given, goes out first in the same write (a unary response in one flush); with
   * `lastDataTransient` its memory is reused once this returns, as for `write`.
   */
  sendTrailers(trailers: Headers, lastData?: Uint8Array, lastDataTransient?: boolean): void;
  /** A trailers-only response: one HEADERS frame with END_STREAM. */
  respondTrailersOnly(headers: Headers): void;
  /** RST_STREAM with `code`. */
  reset(code: number): void;
  /** Stops delivering request data (flow control holds the peer back) until `resume`. */
  pause(): void;
  resume(): void;
}

/** One listening socket's HTTP/2 server. */
export interface TransportServer {
  /** The bound address: port for TCP, path for unix sockets. */
  readonly address: { host: string; port: number } | { path: string };
  /** Stops accepting connections and sends GOAWAY to each; open streams go on. */
  close(): void;
  /** Closes every connection at once. */
  destroy(): void;
  /** Resolves once every connection is closed (after close or destroy). */
  closed(): Promise<void>;
}

// ---- client side ----

export interface ClientStreamSink {
  /** Response headers; `endStream` marks a trailers-only response. */
  onHeaders(headers: Headers, endStream: boolean): void;
  onData(chunk: Uint8Array): void;
  onTrailers(trailers: Headers): void;
  /**
   * The stream is closed: after trailers normally, else with the RST_STREAM code
   * received or sent (`rstCode`). `connectionError` is set only when the connection
   * failed, never came up, or was lost: the call then fails UNAVAILABLE.
   */
  onClose(rstCode: number, connectionError: Error | undefined): void;
  onDrain(): void;
}

export interface ClientTransportStream {
  /** Request body bytes; false means wait for `onDrain`. */
  write(data: Uint8Array): boolean;
  /** Half-closes the request (END_STREAM), after any data written. */
  end(data?: Uint8Array): void;
  /** RST_STREAM with `code`; `onClose` follows. */
  reset(code: number): void;
  /** Stops delivering response data (flow control holds the peer back) until `resume`. */
  pause(): void;
  resume(): void;
}

/** How a client transport connects: the same for every implementation. */
export interface ClientConnectOptions {
  /** TCP address or unix socket path. */
  address: { host: string; port: number } | { path: string };
  tls?: {
    ca?: string | Buffer | (string | Buffer)[];
    cert?: string | Buffer;
    key?: string | Buffer;
    /** The name checked against the server certificate and sent as SNI. */
    serverName?: string;
    rejectUnauthorized?: boolean;
  };
  /** Called once when the connection is gone (closed, failed, or after GOAWAY drained). */
  onClose?: (error: Error | undefined) => void;
  /** Called when the server sends GOAWAY (with its debug data): no new streams go to this connection. */
  onGoaway?: (errorCode: number, debugData: string) => void;
  /**
   * Called once the connection is established: when the server's first SETTINGS arrive,
   * so a socket that accepts and closes at once counts as a failed attempt.
   */
  onConnect?: () => void;
  /**
   * Keepalive (gRFC A8): a PING every `timeMs` while calls are open (or always, with
   * `permitWithoutCalls`); no answer within `timeoutMs` closes the connection, failing
   * its calls with UNAVAILABLE.
   */
  keepalive?: { timeMs: number; timeoutMs: number; permitWithoutCalls: boolean };
  /**
   * An already connected socket (an HTTP CONNECT tunnel) to use instead of connecting to
   * `address`; with `tls`, TLS runs on top of it. `address` still names the server (SNI, :authority).
   */
  socket?: Socket;
}

/** One client HTTP/2 connection. */
export interface ClientTransport {
  readonly peer: PeerInfo | undefined;
  /** False once the connection is closing, closed or got GOAWAY: open a new one for new calls. */
  readonly usable: boolean;
  /** Opens a stream with request headers (pseudo-headers included). */
  request(headers: Headers, sink: ClientStreamSink): ClientTransportStream;
  /** GOAWAY; streams in flight finish. */
  close(): void;
  destroy(): void;
}
