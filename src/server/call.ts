/**
 * One server call: reads the request frames of a transport stream, runs the handler
 * (directly, or through the interceptor chain) and writes the response. It is also the
 * handler's context, so a call costs one object. Nothing here throws into the
 * transport: every failure ends the call with a status.
 */
import type { DescMessage, DescMethod, MessageShape } from "@bufbuild/protobuf";
import { encodeBase64 } from "../protocol/base64.js";
import { identity, type Codec, type CodecRegistry } from "../protocol/compression.js";
import { FrameDecoder, encodeFrame, flagCompressed, frameHeaderBytes, type FrameSink, type FrameTarget } from "../protocol/frame.js";
import { encodeGrpcMessage } from "../protocol/grpc-message.js";
import { maxTransientFrameBytes, type MessageDecoder, type MessageEncoder, type MessageMaker } from "../protocol/protobuf/index.js";
import { Metadata, metadataFromHeaders, metadataToHeaders, type Headers } from "../protocol/metadata.js";
import { Code, GrpcError, encodeStatusDetails } from "../protocol/status.js";
import { Http2ErrorCode, type PeerInfo, type ServerStreamSink, type ServerTransportStream } from "../transport/types.js";
import { AsyncQueue, messageQueueHighWaterMark, messageWeight } from "../util/async-queue.js";
import { setDeadlineTimer, type DeadlineTimer } from "../util/timer.js";
import type { AnyHandler, HandlerContext, ResponseInit } from "./handler.js";
import type { ServerNext, ServerRequest, ServerResponse } from "./interceptor.js";

/** A routed method: descriptor, handler and, when the server has interceptors, the composed chain. */
export interface MethodEntry {
  readonly method: DescMethod;
  readonly handler: AnyHandler;
  readonly chain: ServerNext | undefined;
  /** Decodes the method's requests (protocol/protobuf: what fromBinary returns, compiled per schema). */
  readonly requestDecoder: MessageDecoder;
  /** Encodes the method's responses (protocol/protobuf: toBinary's bytes, framed in one buffer). */
  readonly responseEncoder: MessageEncoder;
  /** A response message from what the handler gave: the message itself, or create's of an init object. */
  readonly makeResponse: MessageMaker;
}

/** Per-server settings every call reads. */
export interface ServerCallConfig {
  readonly codecs: CodecRegistry;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  /** Sees every error a handler threw that was not a GrpcError (the client sees only UNKNOWN). */
  readonly onHandlerError: ((error: unknown, method: DescMethod) => void) | undefined;
  readonly calls: Set<ServerCall>;
}

const contentTypeGrpc = "application/grpc";

/** The trailers of most calls; shared, since transports only read header objects. */
const okTrailers: Headers = Object.freeze({ "grpc-status": "0" });

/** Response headers without metadata or compression, shared while the server's encodings stay the same. */
let plainHeaders: Headers = Object.freeze({ ":status": "200", "content-type": contentTypeGrpc, "grpc-accept-encoding": identity });

function plainResponseHeaders(acceptEncoding: string): Headers {
  if (plainHeaders["grpc-accept-encoding"] !== acceptEncoding) {
    plainHeaders = Object.freeze({ ":status": "200", "content-type": contentTypeGrpc, "grpc-accept-encoding": acceptEncoding });
  }
  return plainHeaders;
}

/**
 * Lends the encoder the transport's memory for one call's response frames: a frame
 * over the send limit gets none (the encoder returns it, and the call refuses it), and
 * the response headers go out before the first frame that gets some. Its own object,
 * so that handlers, whose context the call is, never see the transport's memory.
 */
class ResponseTarget implements FrameTarget {
  constructor(
    private readonly call: ServerCall,
    private readonly stream: FrameTarget,
    private readonly maxSendMessageBytes: number,
  ) {}

  reserveFrame(bytes: number): number {
    if (bytes - frameHeaderBytes > this.maxSendMessageBytes) return -1;
    this.call.sendHeader();
    return this.stream.reserveFrame(bytes);
  }

  get frameBuffer(): Uint8Array {
    return this.stream.frameBuffer;
  }

  releaseFrame(): void {
    this.stream.releaseFrame();
  }
}

export class ServerCall implements ServerStreamSink, FrameSink, HandlerContext {
  readonly deadline: number | undefined;
  compressNextMessage = true;

  private readonly decoder: FrameDecoder;
  private timer: DeadlineTimer | undefined;
  private done = false;
  private headersSent = false;
  private controller: AbortController | undefined;
  private abortReason: GrpcError | undefined;
  private requestMd: Metadata | undefined;
  private headerMd: Metadata | undefined;
  private trailerMd: Metadata | undefined;
  private sendCodec: Codec | undefined;
  /** Pending decompressions keep request messages in order. */
  private inflight: Promise<void> | undefined;
  private request: MessageShape<DescMessage> | undefined;
  private requestCount = 0;
  /** Request messages that arrived with the compressed flag set (see wasCompressed). */
  private compressedRequests: WeakSet<object> | undefined;
  private queue: AsyncQueue<MessageShape<DescMessage>> | undefined;
  private drainWaiter: (() => void) | undefined;
  /** Where response frames are written in place, when the transport lends memory. */
  private readonly inPlace: ResponseTarget | undefined;

  constructor(
    private readonly stream: ServerTransportStream,
    private readonly entry: MethodEntry,
    private readonly config: ServerCallConfig,
    private readonly requestCodec: Codec | undefined,
    timeoutMs: number | undefined,
  ) {
    this.decoder = new FrameDecoder(this, config.maxReceiveMessageBytes);
    const target = stream.dataTarget;
    this.inPlace = target === undefined ? undefined : new ResponseTarget(this, target, config.maxSendMessageBytes);
    config.calls.add(this);
    if (timeoutMs !== undefined) {
      this.deadline = Date.now() + timeoutMs;
      this.timer = setDeadlineTimer(this.deadline, () => this.onDeadline());
    }
    const kind = entry.method.methodKind;
    if (kind === "client_streaming" || kind === "bidi_streaming") {
      this.queue = new AsyncQueue(messageQueueHighWaterMark, (pause) => (pause ? stream.pause() : stream.resume()), undefined);
    }
    stream.attach(this);
    if (this.queue !== undefined) this.invokeStreaming();
  }

  get method(): DescMethod {
    return this.entry.method;
  }

  get peer(): PeerInfo {
    return this.stream.peer;
  }

  get requestMetadata(): Metadata {
    return (this.requestMd ??= metadataFromHeaders(this.stream.metadataHeaders));
  }

  get responseHeader(): Metadata {
    return (this.headerMd ??= new Metadata());
  }

  get responseTrailer(): Metadata {
    return (this.trailerMd ??= new Metadata());
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  wasCompressed(request: object): boolean {
    return this.compressedRequests?.has(request) === true;
  }

  timeRemaining(): number {
    return this.deadline === undefined ? Infinity : Math.max(0, this.deadline - Date.now());
  }

  setResponseCompression(name: string): void {
    if (this.headersSent) throw new Error("setResponseCompression must be called before the response headers are sent");
    if (name === identity) {
      this.sendCodec = undefined;
      return;
    }
    const codec = this.config.codecs.get(name);
    const accepted = this.stream.headers["grpc-accept-encoding"];
    // Never use an algorithm the client did not list (compression.md): send uncompressed instead.
    if (codec !== undefined && typeof accepted === "string" && accepted.split(",").some((s) => s.trim() === name)) {
      this.sendCodec = codec;
    }
  }

  sendHeader(): void {
    if (this.headersSent || this.done) return;
    this.headersSent = true;
    if (this.sendCodec === undefined && this.headerMd === undefined) {
      this.stream.sendHeaders(plainResponseHeaders(this.config.codecs.acceptEncoding));
      return;
    }
    const headers: Headers = { ":status": "200", "content-type": contentTypeGrpc, "grpc-accept-encoding": this.config.codecs.acceptEncoding };
    if (this.sendCodec !== undefined) headers["grpc-encoding"] = this.sendCodec.name;
    if (this.headerMd !== undefined) metadataToHeaders(this.headerMd, headers);
    this.stream.sendHeaders(headers);
  }

  // ---- request side (transport sink) ----

  onData(chunk: Uint8Array): void {
    if (!this.done) this.decoder.push(chunk);
  }

  onFrame(flags: number, bytes: Uint8Array, start: number, end: number): void {
    if ((flags & flagCompressed) !== 0) {
      const codec = this.requestCodec;
      if (codec === undefined) {
        this.fail(new GrpcError(Code.INTERNAL, "received a compressed message but the request has no grpc-encoding"));
        return;
      }
      const copy = bytes.slice(start, end);
      const previous = this.inflight ?? Promise.resolve();
      const next = previous
        .then(() => codec.decompress(copy, this.config.maxReceiveMessageBytes))
        .then(
          (message) => this.onMessageBytes(message, 0, message.length, true),
          (err: unknown) => this.fail(decompressError(err, codec.name, this.config.maxReceiveMessageBytes)),
        );
      this.inflight = next;
      void next.then(() => {
        if (this.inflight === next) this.inflight = undefined;
      });
      return;
    }
    if (this.inflight !== undefined) {
      const copy = bytes.slice(start, end);
      const next = this.inflight.then(() => this.onMessageBytes(copy, 0, copy.length));
      this.inflight = next;
      void next.then(() => {
        if (this.inflight === next) this.inflight = undefined;
      });
      return;
    }
    this.onMessageBytes(bytes, start, end);
  }

  onFrameTooLarge(length: number, limit: number): void {
    this.fail(new GrpcError(Code.RESOURCE_EXHAUSTED, `${this.entry.method.parent.typeName}/${this.entry.method.name}: received message of ${length} bytes, limit is ${limit}`));
  }

  /** A message's bytes: `bytes` from `start` to `end`. */
  private onMessageBytes(bytes: Uint8Array, start: number, end: number, compressed = false): void {
    if (this.done) return;
    let message: MessageShape<DescMessage>;
    try {
      message = this.entry.requestDecoder.decode(bytes, start, end);
    } catch (err) {
      this.fail(new GrpcError(Code.INTERNAL, `failed to parse request message of ${this.entry.method.input.typeName}`, { cause: err }));
      return;
    }
    if (compressed) (this.compressedRequests ??= new WeakSet()).add(message);
    if (this.queue !== undefined) {
      this.queue.push(message, messageWeight(end - start));
      return;
    }
    if (++this.requestCount > 1) {
      this.fail(new GrpcError(Code.UNIMPLEMENTED, `${this.entry.method.methodKind} method received more than one request message`));
      return;
    }
    this.request = message;
  }

  onEnd(): void {
    if (this.done) return;
    if (this.decoder.midMessage) {
      this.fail(new GrpcError(Code.INTERNAL, "request stream ended in the middle of a message"));
      return;
    }
    if (this.inflight !== undefined) {
      void this.inflight.then(() => this.onEndInOrder());
      return;
    }
    this.onEndInOrder();
  }

  private onEndInOrder(): void {
    if (this.done) return;
    if (this.queue !== undefined) {
      this.queue.end();
      return;
    }
    const request = this.request;
    if (request === undefined) {
      this.fail(new GrpcError(Code.UNIMPLEMENTED, `${this.entry.method.methodKind} method received no request message`));
      return;
    }
    this.request = undefined;
    this.invokeSingleRequest(request);
  }

  onAbort(reason: string): void {
    if (this.done) return;
    this.finishLocally(new GrpcError(Code.CANCELLED, `call cancelled: ${reason}`));
  }

  onDrain(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.();
  }

  // ---- invoking the handler ----

  private invokeSingleRequest(request: MessageShape<DescMessage>): void {
    const { method, handler, chain } = this.entry;
    if (chain !== undefined) {
      this.runChain(chain, { stream: false, method, ctx: this, message: request });
      return;
    }
    if (method.methodKind === "unary") {
      let result: Promise<ResponseInit<DescMessage>> | ResponseInit<DescMessage>;
      try {
        result = (handler as (r: unknown, c: HandlerContext) => typeof result)(request, this);
      } catch (err) {
        this.fail(err);
        return;
      }
      if (result instanceof Promise) result.then((res) => this.sendUnaryResponse(res), (err: unknown) => this.fail(err));
      else this.sendUnaryResponse(result);
      return;
    }
    let responses: AsyncIterable<ResponseInit<DescMessage>>;
    try {
      responses = (handler as (r: unknown, c: HandlerContext) => typeof responses)(request, this);
    } catch (err) {
      this.fail(err);
      return;
    }
    void this.sendStream(responses);
  }

  private invokeStreaming(): void {
    const { method, handler, chain } = this.entry;
    const requests = this.queue!;
    if (chain !== undefined) {
      this.runChain(chain, { stream: true, method, ctx: this, message: requests });
      return;
    }
    if (method.methodKind === "client_streaming") {
      let result: Promise<ResponseInit<DescMessage>>;
      try {
        result = (handler as (r: unknown, c: HandlerContext) => typeof result)(requests, this);
      } catch (err) {
        this.fail(err);
        return;
      }
      Promise.resolve(result).then((res) => this.sendUnaryResponse(res), (err: unknown) => this.fail(err));
      return;
    }
    let responses: AsyncIterable<ResponseInit<DescMessage>>;
    try {
      responses = (handler as (r: unknown, c: HandlerContext) => typeof responses)(requests, this);
    } catch (err) {
      this.fail(err);
      return;
    }
    void this.sendStream(responses);
  }

  private runChain(chain: ServerNext, request: ServerRequest): void {
    let result: Promise<ServerResponse>;
    try {
      result = chain(request);
    } catch (err) {
      this.fail(err);
      return;
    }
    result.then(
      (res) => (res.stream ? void this.sendStream(res.message) : this.sendUnaryResponse(res.message)),
      (err: unknown) => this.fail(err),
    );
  }

  // ---- response side ----

  /** Whether the next response message goes out compressed. */
  private get compressingNext(): boolean {
    return this.sendCodec !== undefined && this.compressNextMessage;
  }

  /**
   * Encodes a response message. Uncompressed ("framed"): as a whole gRPC frame, written
   * straight into the transport's write batch when it lends room (then the result is
   * undefined: the frame is sent, headers first), else in one buffer, up to
   * maxTransientFrameBytes in the encoder's scratch buffer, which the caller hands to
   * the transport at once, as transient. Or "bare" bytes, for the codec to compress.
   */
  private encodeResponse(value: ResponseInit<DescMessage>, as: "framed" | "bare"): Uint8Array | GrpcError | undefined {
    const output = this.entry.method.output;
    const encoder = this.entry.responseEncoder;
    let bytes: Uint8Array | undefined;
    try {
      const message = this.entry.makeResponse(value);
      if (as === "bare") bytes = encoder.encode(message);
      else bytes = this.inPlace === undefined ? encoder.encodeFramedTransient(message) : encoder.encodeFramedTo(message, this.inPlace);
    } catch (err) {
      return new GrpcError(Code.INTERNAL, `failed to serialize response message of ${output.typeName}`, { cause: err });
    }
    if (bytes === undefined) return undefined;
    const size = as === "bare" ? bytes.length : bytes.length - frameHeaderBytes;
    if (size > this.config.maxSendMessageBytes) {
      return new GrpcError(Code.RESOURCE_EXHAUSTED, `response message of ${size} bytes is larger than the send limit of ${this.config.maxSendMessageBytes}`);
    }
    return bytes;
  }

  /** Compresses and frames one response message. */
  private async compressResponse(bytes: Uint8Array): Promise<Uint8Array> {
    return encodeFrame(await this.sendCodec!.compress(bytes), flagCompressed);
  }

  private sendUnaryResponse(value: ResponseInit<DescMessage>): void {
    if (this.done) return;
    const compressing = this.compressingNext;
    const bytes = this.encodeResponse(value, compressing ? "bare" : "framed");
    if (bytes instanceof GrpcError) {
      this.fail(bytes);
      return;
    }
    if (bytes === undefined) {
      // Sent in place, after the headers: only the status is left.
      this.finish(Code.OK, "", undefined);
      return;
    }
    if (compressing) {
      this.compressResponse(bytes).then((frame) => this.finishUnary(frame, false), (err: unknown) => this.fail(GrpcError.from(err, Code.INTERNAL, "failed to compress the response")));
      return;
    }
    this.finishUnary(bytes, bytes.length <= maxTransientFrameBytes);
  }

  private finishUnary(frame: Uint8Array, transient: boolean): void {
    if (this.done) return;
    this.sendHeader();
    this.finish(Code.OK, "", undefined, frame, transient);
  }

  private async sendStream(responses: AsyncIterable<ResponseInit<DescMessage>>): Promise<void> {
    try {
      for await (const value of responses) {
        if (this.done) return;
        const compressing = this.compressingNext;
        // Uncompressed messages are framed synchronously, no promise per message:
        // in place, or into the encoder's scratch buffer, which the transport copies at once.
        const bytes = this.encodeResponse(value, compressing ? "bare" : "framed");
        if (bytes instanceof GrpcError) throw bytes;
        // Sent in place: room is lent only when the bytes can leave now, so no drain to wait for.
        if (bytes === undefined) continue;
        const frame = compressing ? await this.compressResponse(bytes) : bytes;
        if (this.done) return;
        this.sendHeader();
        if (!this.stream.write(frame, !compressing && frame.length <= maxTransientFrameBytes)) {
          await new Promise<void>((resolve) => (this.drainWaiter = resolve));
        }
      }
    } catch (err) {
      this.fail(err);
      return;
    }
    this.finish(Code.OK, "", undefined);
  }

  /** Ends the call with the status of `reason` (a GrpcError, or UNKNOWN for anything else). */
  private fail(reason: unknown): void {
    if (this.done) return;
    if (!(reason instanceof GrpcError)) {
      this.config.onHandlerError?.(reason, this.entry.method);
    }
    const err = reason instanceof GrpcError ? reason : new GrpcError(Code.UNKNOWN, "unexpected error in the handler", { cause: reason });
    if (err.metadata.size > 0) this.responseTrailer.merge(err.metadata);
    this.finish(err.code, err.rawMessage, err.details.length > 0 ? encodeStatusDetails(err.code, err.rawMessage, err.details) : undefined);
  }

  /**
   * Sends the status (after `lastFrame`, the unary response, in the same flush;
   * `lastFrameTransient` when it lives in the encoder's scratch buffer).
   */
  private finish(code: Code, message: string, details: Uint8Array | undefined, lastFrame?: Uint8Array, lastFrameTransient = false): void {
    if (this.done) return;
    if (code === Code.OK && message === "" && details === undefined && this.trailerMd === undefined && this.headersSent) {
      this.stream.sendTrailers(okTrailers, lastFrame, lastFrameTransient);
      this.cleanUp(undefined);
      return;
    }
    const trailers: Headers = { "grpc-status": String(code) };
    if (message !== "") trailers["grpc-message"] = encodeGrpcMessage(message);
    if (details !== undefined) trailers["grpc-status-details-bin"] = encodeBase64(details, false);
    if (this.trailerMd !== undefined) metadataToHeaders(this.trailerMd, trailers);
    if (this.headersSent) {
      this.stream.sendTrailers(trailers, lastFrame, lastFrameTransient);
    } else {
      // Trailers-only: status (and any response header metadata) in the one HEADERS frame.
      trailers[":status"] = "200";
      trailers["content-type"] = contentTypeGrpc;
      if (this.headerMd !== undefined) metadataToHeaders(this.headerMd, trailers);
      this.headersSent = true;
      this.stream.respondTrailersOnly(trailers);
    }
    this.cleanUp(code === Code.OK ? undefined : new GrpcError(code, message));
  }

  private onDeadline(): void {
    if (this.done) return;
    this.timer = undefined;
    const err = new GrpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded");
    this.finish(err.code, err.rawMessage, undefined);
  }

  /** Ends the call without a response (the stream is already gone, or is reset). */
  finishLocally(reason: GrpcError, resetCode?: number): void {
    if (this.done) return;
    if (resetCode !== undefined) this.stream.reset(resetCode);
    this.cleanUp(reason);
  }

  /** Server shutdown: the handler sees its signal abort and the client gets RST_STREAM(CANCEL). */
  cancel(): void {
    this.finishLocally(new GrpcError(Code.CANCELLED, "server is shutting down"), Http2ErrorCode.CANCEL);
  }

  private cleanUp(reason: GrpcError | undefined): void {
    this.done = true;
    this.decoder.stop();
    this.timer?.clear();
    this.timer = undefined;
    this.config.calls.delete(this);
    if (reason !== undefined) {
      this.queue?.fail(reason);
      this.abortReason = reason;
      this.controller?.abort(reason);
    }
    this.onDrain();
  }
}

function decompressError(err: unknown, name: string, limit: number): GrpcError {
  if (err instanceof RangeError) return new GrpcError(Code.RESOURCE_EXHAUSTED, `decompressed message is larger than the limit of ${limit} bytes`);
  return new GrpcError(Code.INTERNAL, `failed to decompress a ${name} message`, { cause: err });
}
