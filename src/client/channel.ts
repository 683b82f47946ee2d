/**
 * The channel: a target, credentials and options shared by every call made on it,
 * and the HTTP/2 connection those calls are multiplexed over. A lost connection is
 * replaced on the next call.
 */
import { CodecRegistry } from "../protocol/compression.js";
import { defaultCodecs } from "../compression/zlib.js";
import { NodeHttp2ClientTransport } from "../transport/node-http2/client.js";
import type { ClientTransport } from "../transport/types.js";
import { credentials as channelCredentials, type ChannelCredentials } from "./credentials.js";
import type { ClientInterceptor } from "./interceptor.js";
import { parseTarget, type ParsedTarget } from "./target.js";

export interface ChannelOptions {
  /** Largest response message accepted, after decompression. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest request message sent. Default unlimited. */
  maxSendMessageBytes?: number;
  /** Compression algorithms offered and accepted. Default gzip and deflate. */
  codecs?: CodecRegistry;
  /** Algorithm for request messages of every call ("gzip", "deflate"); a call option overrides it. Default none. */
  compression?: string;
  /** Run around every call made on this channel, first listed outermost. */
  interceptors?: readonly ClientInterceptor[];
  /** Overrides the :authority header (and, on TLS, the name checked unless the credentials set one). */
  authority?: string;
  /** Prepended to this library's user-agent. */
  userAgent?: string;
}

export const defaultMaxReceiveMessageBytes = 4 * 1024 * 1024;
const libraryUserAgent = "grpc-ts/0.1.0";

export class Channel {
  readonly target: ParsedTarget;
  readonly authority: string;
  readonly secure: boolean;
  readonly userAgent: string;
  readonly codecs: CodecRegistry;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly interceptors: readonly ClientInterceptor[];
  private transport: ClientTransport | undefined;
  private closed = false;

  constructor(target: string, readonly credentials: ChannelCredentials, readonly options: ChannelOptions = {}) {
    this.target = parseTarget(target);
    const nameOverride = credentials.kind === "tls" ? credentials.serverNameOverride : undefined;
    this.authority = options.authority ?? nameOverride ?? this.target.authority;
    this.secure = credentials.kind === "tls";
    this.userAgent = options.userAgent === undefined ? libraryUserAgent : `${options.userAgent} ${libraryUserAgent}`;
    this.codecs = options.codecs ?? defaultCodecs();
    this.maxReceiveMessageBytes = options.maxReceiveMessageBytes ?? defaultMaxReceiveMessageBytes;
    this.maxSendMessageBytes = options.maxSendMessageBytes ?? Infinity;
    this.interceptors = options.interceptors ?? [];
  }

  /** The connection for a new call, opened on demand; undefined once the channel is closed. */
  getTransport(): ClientTransport | undefined {
    if (this.closed) return undefined;
    const current = this.transport;
    if (current !== undefined && current.usable) return current;
    const address = this.target.addresses[0]!;
    const creds = this.credentials;
    const next = new NodeHttp2ClientTransport({
      address,
      tls: creds.kind === "tls"
        ? { ca: creds.ca, cert: creds.cert, key: creds.key, serverName: creds.serverNameOverride ?? this.options.authority?.replace(/:\d+$/, "") }
        : undefined,
      onClose: () => {
        if (this.transport === next) this.transport = undefined;
      },
    });
    this.transport = next;
    return next;
  }

  /** Closes the connection; calls in flight finish, new calls fail with UNAVAILABLE. */
  close(): void {
    this.closed = true;
    this.transport?.close();
    this.transport = undefined;
  }
}

/** A channel to `target` ("host:port", "dns:///host:port", "unix:path", …). */
export function createChannel(target: string, credentials: ChannelCredentials = channelCredentials.insecure(), options?: ChannelOptions): Channel {
  return new Channel(target, credentials, options);
}
