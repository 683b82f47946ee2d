/**
 * Handler types: what an implementation of a service looks like, derived from the
 * descriptors protoc-gen-es emits, so a wrong shape fails to compile.
 */
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import type { Metadata } from "../protocol/metadata.js";
import type { PeerInfo } from "../transport/types.js";

/** What a handler knows of its call, and how it shapes the response. */
export interface HandlerContext {
  readonly method: DescMethod;
  /** The request headers the client sent, reserved headers left out. */
  readonly requestMetadata: Metadata;
  /** Absolute deadline (epoch ms) from grpc-timeout, or undefined for none. */
  readonly deadline: number | undefined;
  /** Aborts when the client cancels, the deadline passes, the connection drops or the server shuts down. */
  readonly signal: AbortSignal;
  readonly peer: PeerInfo;
  /** Response headers to send; read-only once sent. */
  readonly responseHeader: Metadata;
  /** Response trailers to send with the status. */
  readonly responseTrailer: Metadata;
  /** Milliseconds left before the deadline (Infinity without one). */
  timeRemaining(): number;
  /**
   * Whether `request`, a message this call received, arrived compressed (the compressed
   * flag of its frame); false for any other object.
   */
  wasCompressed(request: object): boolean;
  /** Sends the response headers now instead of with the first message. */
  sendHeader(): void;
  /**
   * Compresses response messages with this algorithm when the client accepts it
   * ("identity" turns it off). Must be called before the headers are sent.
   */
  setResponseCompression(name: string): void;
  /** Whether the next response messages are compressed (when an algorithm is set). Default true. */
  compressNextMessage: boolean;
}

export type ResponseInit<O extends DescMessage> = MessageInitShape<O> | MessageShape<O>;

export type UnaryHandler<I extends DescMessage, O extends DescMessage> =
  (request: MessageShape<I>, ctx: HandlerContext) => Promise<ResponseInit<O>> | ResponseInit<O>;
export type ServerStreamingHandler<I extends DescMessage, O extends DescMessage> =
  (request: MessageShape<I>, ctx: HandlerContext) => AsyncIterable<ResponseInit<O>>;
export type ClientStreamingHandler<I extends DescMessage, O extends DescMessage> =
  (requests: AsyncIterable<MessageShape<I>>, ctx: HandlerContext) => Promise<ResponseInit<O>>;
export type BidiStreamingHandler<I extends DescMessage, O extends DescMessage> =
  (requests: AsyncIterable<MessageShape<I>>, ctx: HandlerContext) => AsyncIterable<ResponseInit<O>>;

/** The handler type for one method descriptor. */
export type MethodHandler<M extends DescMethod> =
  M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage } ? UnaryHandler<I, O>
  : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage } ? ServerStreamingHandler<I, O>
  : M extends { methodKind: "client_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage } ? ClientStreamingHandler<I, O>
  : M extends { methodKind: "bidi_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage } ? BidiStreamingHandler<I, O>
  : never;

/** An implementation of a service: one handler per method, keyed by the method's localName. */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S["method"]]: MethodHandler<S["method"][K]>;
};

/** Any handler, as the server stores them. */
export type AnyHandler =
  | UnaryHandler<DescMessage, DescMessage>
  | ServerStreamingHandler<DescMessage, DescMessage>
  | ClientStreamingHandler<DescMessage, DescMessage>
  | BidiStreamingHandler<DescMessage, DescMessage>;
