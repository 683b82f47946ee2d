/**
 * The gRPC server: a router from `/package.Service/Method` to handlers, listeners
 * on TCP, TLS and unix sockets, and graceful shutdown. Requests the server cannot
 * route or accept are answered here, before any per-call state exists.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { CodecRegistry, identity } from "../protocol/compression.js";
import { parseGrpcTimeout } from "../protocol/grpc-timeout.js";
import { encodeGrpcMessage } from "../protocol/grpc-message.js";
import { Code, GrpcError } from "../protocol/status.js";
import { defaultCodecs } from "../compression/zlib.js";
import { listenNodeHttp2 } from "../transport/node-http2/server.js";
import { listenH2, type H2Options } from "../transport/h2/index.js";
import { defaultTransport } from "../transport/default.js";
import { Http2ErrorCode, type Headers, type ServerTransportStream, type TransportServer } from "../transport/types.js";
import { getMessageDecoder, getMessageEncoder, getMessageMaker } from "../protocol/protobuf/index.js";
import { ServerCall, type MethodEntry, type ServerCallConfig } from "./call.js";
import { serverCredentials, type ServerCredentials } from "./credentials.js";
import type { AnyHandler, MethodHandler, ServiceImpl } from "./handler.js";
import { composeServerInterceptors, type ServerInterceptor, type ServerNext } from "./interceptor.js";
import { parseListenAddress, type ListenAddress } from "./listen-address.js";

export interface ServerOptions {
  /**
   * Serves HTTP/1.1 on the same port (our transport only): a cleartext connection that
   * starts with an HTTP/1.x request line, or a TLS one that negotiates http/1.1, goes to
   * this node:http handler (the base for gRPC-Web and REST gateways). Without it such
   * connections are refused.
   */
  http1?: (request: IncomingMessage, response: ServerResponse) => void;
  /** Largest request message accepted, after decompression; larger ones fail with RESOURCE_EXHAUSTED. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest response message sent; larger ones fail the call with RESOURCE_EXHAUSTED. Default unlimited. */
  maxSendMessageBytes?: number;
  /** Run around every handler, first listed outermost. */
  interceptors?: readonly ServerInterceptor[];
  /** Compression algorithms accepted and offered. Default gzip and deflate. */
  codecs?: CodecRegistry;
  /** SETTINGS_MAX_CONCURRENT_STREAMS per connection; streams beyond it get RST_STREAM(REFUSED_STREAM). Default 1000. */
  maxConcurrentStreams?: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: largest request header block; a larger one is answered 431 with RESOURCE_EXHAUSTED. Default 16 KiB. */
  maxHeaderListSize?: number;
  /**
   * Connection management (gRFC A9), keepalive and ping policing: this option and the
   * seven below are enforced by the "h2" transport (node-http2 ignores them). They close
   * connections, not calls: a graceful GOAWAY (2^31-1 and a PING, then the real last
   * stream id) lets running calls finish while clients reconnect for new ones.
   * maxConnectionIdleMs, maxConnectionAgeMs and keepaliveTimeMs are at least 1 s.
   *
   * No call open for this long ⇒ GOAWAY(NO_ERROR, "max_idle"). Default off.
   */
  maxConnectionIdleMs?: number;
  /** A connection this old (±10 % jitter) ⇒ GOAWAY(NO_ERROR, "max_age"); running calls go on. Default off. */
  maxConnectionAgeMs?: number;
  /** After the final "max_age" GOAWAY, calls still running get this long; then the connection closes and they are cancelled. Default off (they run to the end). */
  maxConnectionAgeGraceMs?: number;
  /** Nothing received on a connection for this long ⇒ the server PINGs the client. Default 2 h. */
  keepaliveTimeMs?: number;
  /** No answer within this after a keepalive PING ⇒ the connection closes; its calls' handlers see CANCELLED. Default 20 s. */
  keepaliveTimeoutMs?: number;
  /**
   * Ping policing (PERMIT_KEEPALIVE_TIME): a client PING sooner than this after its
   * previous one is a strike; after two, the third ends the connection with GOAWAY
   * ENHANCE_YOUR_CALM "too_many_pings" (the client then doubles its keepalive time).
   * Sending HEADERS or DATA clears the strikes. Default 5 min.
   */
  keepaliveMinPingIntervalMs?: number;
  /** PERMIT_KEEPALIVE_WITHOUT_CALLS: accept client PINGs while no call is open; otherwise they need 2 h between them. Default false. */
  keepalivePermitWithoutCalls?: boolean;
  /** TEST ONLY: lowers the 1 s floor on keepaliveTimeMs, maxConnectionIdleMs and maxConnectionAgeMs so tests can run fast. Never set it in production. */
  testOnlyMinTimeMs?: number;
  /** Sees errors handlers threw that were not GrpcErrors (the client only sees UNKNOWN). */
  onHandlerError?: (error: unknown, method: DescMethod) => void;
  /** The HTTP/2 implementation: our own ("h2", the default) or node:http2 ("node-http2"); GRPC_TS_TRANSPORT sets the default. */
  transport?: "node-http2" | "h2";
}

export const defaultMaxReceiveMessageBytes = 4 * 1024 * 1024;
/** As grpc-go's server keepalive and grpc-java's max idle/age: shorter timers would churn connections. */
const connectionTimerFloorMs = 1000;
/** A8 server enforcement defaults (C-core's GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS). */
const defaultKeepaliveMinPingIntervalMs = 5 * 60_000;

export class Server {
  private readonly routes = new Map<string, MethodEntry>();
  private readonly config: ServerCallConfig;
  private readonly interceptors: readonly ServerInterceptor[];
  private readonly listeners: TransportServer[] = [];
  private readonly shutdownListeners: (() => void)[] = [];
  private shuttingDown = false;

  constructor(private readonly options: ServerOptions = {}) {
    this.interceptors = options.interceptors ?? [];
    this.config = {
      codecs: options.codecs ?? defaultCodecs(),
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? defaultMaxReceiveMessageBytes,
      maxSendMessageBytes: options.maxSendMessageBytes ?? Infinity,
      onHandlerError: options.onHandlerError,
      calls: new Set(),
    };
  }

  /** Serves every method of `service` that `impl` implements; the others answer UNIMPLEMENTED. */
  add<S extends DescService>(service: S, impl: Partial<ServiceImpl<S>>): this {
    for (const method of service.methods) {
      const handler = (impl as Record<string, AnyHandler | undefined>)[method.localName];
      if (handler !== undefined) this.addMethod(method, handler.bind(impl) as AnyHandler);
    }
    return this;
  }

  /**
   * Serves one method given its descriptor: the way to serve a schema known only at run time.
   * A descriptor narrowed to its kind (or a generated one) types the handler exactly; a bare
   * DescMethod, whose kind is unknown to the compiler, takes any of the four handler shapes.
   */
  addMethod<M extends DescMethod>(method: M, handler: [MethodHandler<M>] extends [never] ? AnyHandler : MethodHandler<M>): this {
    const path = `/${method.parent.typeName}/${method.name}`;
    if (this.routes.has(path)) throw new Error(`${path} is already served`);
    this.routes.set(path, {
      method,
      handler: handler as AnyHandler,
      chain: this.chainFor(method, handler as AnyHandler),
      requestDecoder: getMessageDecoder(method.input),
      responseEncoder: getMessageEncoder(method.output),
      makeResponse: getMessageMaker(method.output),
    });
    return this;
  }

  /** The services served, by full name. */
  services(): string[] {
    return this.serviceDescriptors().map((s) => s.typeName);
  }

  /** The descriptors of the services served (reflection reads the schema from them). */
  serviceDescriptors(): DescService[] {
    return [...new Set([...this.routes.values()].map((e) => e.method.parent))];
  }

  /**
   * Listens on `address` ("host:port", "[::]:port", "unix:path"; port 0 picks a free
   * port). Resolves with the bound address once listening.
   */
  async listen(address: string, credentials: ServerCredentials = serverCredentials.insecure()): Promise<ListenAddress> {
    if (this.shuttingDown) throw new Error("the server is shut down");
    const target = parseListenAddress(address);
    const listen = (this.options.transport ?? defaultTransport()) === "node-http2" ? listenNodeHttp2 : listenH2;
    const listener = await listen(
      target,
      {
        tls: credentials.kind === "tls" ? credentials : undefined,
        maxConcurrentStreams: this.options.maxConcurrentStreams,
        maxHeaderListSize: this.options.maxHeaderListSize ?? 16 * 1024,
        ...this.connectionManagementOptions(),
        http1: this.options.http1,
      },
      (stream) => this.dispatch(stream),
    );
    this.listeners.push(listener);
    return listener.address;
  }

  /** The A9 and keepalive options for the h2 transport, floors applied; unset ones keep the transport's defaults. */
  private connectionManagementOptions(): H2Options {
    const o = this.options;
    const floorMs = o.testOnlyMinTimeMs ?? connectionTimerFloorMs;
    const atLeastFloor = (ms: number | undefined) => (ms === undefined ? undefined : Math.max(ms, floorMs));
    return {
      maxConnectionIdleMs: atLeastFloor(o.maxConnectionIdleMs),
      maxConnectionAgeMs: atLeastFloor(o.maxConnectionAgeMs),
      maxConnectionAgeGraceMs: o.maxConnectionAgeGraceMs,
      keepaliveTimeMs: atLeastFloor(o.keepaliveTimeMs),
      keepaliveTimeoutMs: o.keepaliveTimeoutMs,
      keepaliveMinPingIntervalMs: o.keepaliveMinPingIntervalMs ?? defaultKeepaliveMinPingIntervalMs,
      keepalivePermitWithoutCalls: o.keepalivePermitWithoutCalls ?? false,
    };
  }

  /** Runs `listener` once when shutdown starts (before connections are told to go away). */
  onShutdown(listener: () => void): void {
    this.shutdownListeners.push(listener);
  }

  private beginShutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const listener of this.shutdownListeners.splice(0)) listener();
  }

  /**
   * Graceful shutdown: stops accepting connections, sends GOAWAY, refuses new calls
   * with REFUSED_STREAM (clients retry them elsewhere) and lets running calls finish;
   * those still running after `graceMs` are cancelled. Resolves once every connection is closed.
   */
  async shutdown(options: { graceMs?: number } = {}): Promise<void> {
    this.beginShutdown();
    for (const listener of this.listeners) listener.close();
    const graceMs = options.graceMs ?? Infinity;
    const allClosed = Promise.all(this.listeners.map((l) => l.closed()));
    if (graceMs === Infinity) {
      await allClosed;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const graceOver = new Promise<"grace">((resolve) => (timer = setTimeout(() => resolve("grace"), graceMs)));
    const first = await Promise.race([allClosed, graceOver]);
    clearTimeout(timer);
    if (first === "grace") this.forceShutdown();
    await allClosed;
  }

  /** Cancels every running call (handlers see their signal abort) and closes every connection. */
  forceShutdown(): void {
    this.beginShutdown();
    for (const call of [...this.config.calls]) call.cancel();
    for (const listener of this.listeners) listener.destroy();
  }

  private chainFor(method: DescMethod, handler: AnyHandler): ServerNext | undefined {
    if (this.interceptors.length === 0) return undefined;
    const call = handler as (request: unknown, ctx: unknown) => unknown;
    const last: ServerNext = async (req) => {
      const result = call(req.message, req.ctx);
      if (method.methodKind === "unary" || method.methodKind === "client_streaming") {
        return { stream: false, message: (await result) as never };
      }
      return { stream: true, message: result as never };
    };
    return composeServerInterceptors(this.interceptors, last);
  }

  private dispatch(stream: ServerTransportStream): void {
    const headers = stream.headers;
    const contentType = headers["content-type"];
    if (headers[":method"] !== "POST") {
      return reject(stream, 405, Code.INTERNAL, `gRPC requires POST, got ${String(headers[":method"])}`);
    }
    if (typeof contentType !== "string" || !isGrpcContentType(contentType)) {
      return reject(stream, 415, Code.INVALID_ARGUMENT, `invalid gRPC request content-type ${JSON.stringify(contentType ?? "")}`);
    }
    let timeoutMs: number | undefined;
    const timeout = headers["grpc-timeout"];
    if (typeof timeout === "string") {
      const parsed = parseGrpcTimeout(timeout);
      // As grpc-go: HTTP 400 with INTERNAL, since the client sent something no gRPC client sends.
      if (!parsed.ok) return reject(stream, 400, Code.INTERNAL, `malformed grpc-timeout: ${parsed.error}`);
      timeoutMs = parsed.ms;
    }
    const path = headers[":path"];
    const entry = typeof path === "string" ? this.routes.get(path) : undefined;
    if (entry === undefined) {
      return reject(stream, 200, Code.UNIMPLEMENTED, `unknown method ${String(path)}`);
    }
    if (this.shuttingDown) {
      // A stream that raced our GOAWAY (our own transport admits streams until its second,
      // final GOAWAY): never run, so REFUSED_STREAM (RFC 9113 §8.7) and the client replays
      // it transparently on another connection, e.g. another worker of a cluster.
      stream.reset(Http2ErrorCode.REFUSED_STREAM);
      return;
    }
    const encoding = headers["grpc-encoding"];
    let codec;
    if (typeof encoding === "string" && encoding !== identity) {
      codec = this.config.codecs.get(encoding);
      if (codec === undefined) {
        return reject(stream, 200, Code.UNIMPLEMENTED, `grpc-encoding ${JSON.stringify(encoding)} is not supported; supported: ${this.config.codecs.acceptEncoding}`, {
          "grpc-accept-encoding": this.config.codecs.acceptEncoding,
        });
      }
    }
    new ServerCall(stream, entry, this.config, codec, timeoutMs);
  }
}

function isGrpcContentType(value: string): boolean {
  if (!value.startsWith("application/grpc")) return false;
  const rest = value.length === 16 ? "" : value.charAt(16);
  return rest === "" || rest === "+" || rest === ";";
}

/** Answers a request the server will not run: one HEADERS frame with the status. */
function reject(stream: ServerTransportStream, httpStatus: number, code: Code, message: string, extra: Headers = {}): void {
  stream.respondTrailersOnly({
    ":status": String(httpStatus),
    "content-type": "application/grpc",
    "grpc-status": String(code),
    "grpc-message": encodeGrpcMessage(message),
    ...extra,
  });
}

