/**
 * One client call on the wire: request headers, framed (and maybe compressed)
 * messages out, response headers, messages and status in. The status is reported
 * exactly once, then every timer and listener is gone. The deadline is this side's
 * own timer: it fires even if the server never answers.
 */
import { type DescMessage, type DescMethod, type MessageShape } from "@bufbuild/protobuf";
import { identity, type Codec } from "../protocol/compression.js";
import { FrameDecoder, encodeFrame, flagCompressed, frameHeaderBytes, type FrameSink } from "../protocol/frame.js";
import { getMessageDecoder, getMessageEncoder, type MessageDecoder } from "../protocol/protobuf/index.js";
import { decodeGrpcMessage } from "../protocol/grpc-message.js";
import { formatGrpcTimeout } from "../protocol/grpc-timeout.js";
import { codeFromHttpStatus } from "../protocol/http-status.js";
import { Metadata, metadataFromHeaders, metadataToHeaders, type Headers } from "../protocol/metadata.js";
import { Code, GrpcError, decodeStatusDetails } from "../protocol/status.js";
import { decodeBase64 } from "../protocol/base64.js";
import { Http2ErrorCode, type ClientStreamSink, type ClientTransport, type ClientTransportStream } from "../transport/types.js";
import { setDeadlineTimer, type DeadlineTimer } from "../util/timer.js";
import type { Channel, PendingPick } from "./channel.js";
import { unprocessedErrors } from "./retry/retrying-call.js";

/** Receives what the server sends. `onStatus` comes last, once; `error` is undefined for OK. */
export interface CallListener {
  onHeader(metadata: Metadata): void;
  /** `encodedBytes`: the message's size on the wire (uncompressed), for buffering limits. */
  onMessage(message: MessageShape<DescMessage>, encodedBytes: number): void;
  onStatus(error: GrpcError | undefined, trailers: Metadata): void;
}

export interface StartCallOptions {
  metadata: Metadata | undefined;
  /** Absolute deadline, epoch ms. */
  deadline: number | undefined;
  signal: AbortSignal | undefined;
  /** Request compression algorithm; undefined or "identity" for none. */
  compression: string | undefined;
  maxReceiveMessageBytes: number;
  maxSendMessageBytes: number;
  /** Wait through TRANSIENT_FAILURE for a connection instead of failing fast (wait-for-ready.md). */
  waitForReady: boolean;
  /** Sent as grpc-previous-rpc-attempts when > 0 (retries and hedges). */
  previousAttempts?: number;
  /** Sees the compressed flag of each response message, before the message is delivered. */
  onResponseMessage?: (info: { compressed: boolean }) => void;
}

function rstCodeToStatus(rstCode: number): GrpcError {
  switch (rstCode) {
    case Http2ErrorCode.REFUSED_STREAM: {
      // The server did not process the stream: safe to replay at once (transparent retry).
      const error = new GrpcError(Code.UNAVAILABLE, "stream refused by the server (REFUSED_STREAM)");
      unprocessedErrors.add(error);
      return error;
    }
    case Http2ErrorCode.CANCEL:
      return new GrpcError(Code.CANCELLED, "stream cancelled by the server (RST_STREAM CANCEL)");
    case Http2ErrorCode.ENHANCE_YOUR_CALM:
      return new GrpcError(Code.RESOURCE_EXHAUSTED, "stream reset with ENHANCE_YOUR_CALM");
    case Http2ErrorCode.INADEQUATE_SECURITY:
      return new GrpcError(Code.PERMISSION_DENIED, "stream reset with INADEQUATE_SECURITY");
    default:
      return new GrpcError(Code.INTERNAL, `stream closed without a status (RST_STREAM code ${rstCode})`);
  }
}

export class ClientCall implements ClientStreamSink, FrameSink, PendingPick {
  private stream: ClientTransportStream | undefined;
  private readonly decoder: FrameDecoder;
  /** Decodes the method's responses, looked up once per call rather than per message. */
  private readonly responseDecoder: MessageDecoder;
  private timer: DeadlineTimer | undefined;
  private responseCodec: Codec | undefined;
  private sendCodec: Codec | undefined;
  private done = false;
  private gotHeaders = false;
  /** Pending decompressions and writes, in order. */
  private inflight: Promise<void> | undefined;
  private pendingWrites: Uint8Array[] | undefined = [];
  private pendingEnd = false;
  private drainWaiter: (() => void) | undefined;
  private readonly onAbort: (() => void) | undefined;
  private readonly path: string;
  private extraMetadata: Metadata | undefined;
  private waitingForPick = false;
  readonly waitForReady: boolean;

  constructor(
    private readonly channel: Channel,
    private readonly method: DescMethod,
    private readonly options: StartCallOptions,
    private readonly listener: CallListener,
  ) {
    this.path = `/${method.parent.typeName}/${method.name}`;
    this.decoder = new FrameDecoder(this, options.maxReceiveMessageBytes);
    this.responseDecoder = getMessageDecoder(method.output);
    const { signal, deadline, compression } = options;
    if (compression !== undefined && compression !== identity) {
      this.sendCodec = channel.codecs.get(compression);
      if (this.sendCodec === undefined) {
        throw new GrpcError(Code.INTERNAL, `compression ${JSON.stringify(compression)} is not registered on this channel`);
      }
    }
    this.waitForReady = options.waitForReady;
    channel.callStarted();
    if (signal !== undefined) {
      if (signal.aborted) {
        this.onAbort = undefined;
        this.abortWith(signal.reason);
        return;
      }
      this.onAbort = () => this.abortWith(signal.reason);
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
    if (deadline !== undefined) {
      if (deadline <= Date.now()) {
        this.cancelWith(new GrpcError(Code.DEADLINE_EXCEEDED, "deadline exceeded before the call started"));
        return;
      }
      this.timer = setDeadlineTimer(deadline, () => this.cancelWith(new GrpcError(Code.DEADLINE_EXCEEDED, `deadline exceeded calling ${this.path}`)));
    }
  }

  /** True once the status has been reported. */
  get finished(): boolean {
    return this.done;
  }

  /** Opens the stream, with `extraMetadata` from call credentials merged in. */
  start(extraMetadata?: Metadata): void {
    if (this.done) return;
    this.extraMetadata = extraMetadata;
    const outcome = this.channel.pick(this);
    if (outcome === undefined) this.waitingForPick = true;
    else if (outcome instanceof GrpcError) this.report(outcome, new Metadata());
    else this.open(outcome);
  }

  /** @internal The channel found a connection for a call that was waiting. */
  onPicked(transport: ClientTransport): void {
    this.waitingForPick = false;
    if (!this.done) this.open(transport);
  }

  /** @internal The channel failed a waiting call (TRANSIENT_FAILURE, or closed). */
  onPickFailed(error: GrpcError): void {
    this.waitingForPick = false;
    this.report(error, new Metadata());
  }

  private open(transport: ClientTransport): void {
    const channel = this.channel;
    const extraMetadata = this.extraMetadata;
    const headers: Headers = {
      ":method": "POST",
      ":scheme": channel.secure ? "https" : "http",
      ":path": this.path,
      ":authority": channel.authority,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": channel.userAgent,
      "grpc-accept-encoding": channel.codecs.acceptEncoding,
    };
    if (this.options.deadline !== undefined) headers["grpc-timeout"] = formatGrpcTimeout(this.options.deadline - Date.now());
    if (this.sendCodec !== undefined) headers["grpc-encoding"] = this.sendCodec.name;
    if (this.options.previousAttempts) headers["grpc-previous-rpc-attempts"] = String(this.options.previousAttempts);
    if (this.options.metadata !== undefined) metadataToHeaders(this.options.metadata, headers);
    if (extraMetadata !== undefined) metadataToHeaders(extraMetadata, headers);
    try {
      this.stream = transport.request(headers, this);
    } catch (err) {
      this.report(new GrpcError(Code.UNAVAILABLE, `cannot start a stream: ${(err as Error).message}`, { cause: err }), new Metadata());
      return;
    }
    const pending = this.pendingWrites!;
    this.pendingWrites = undefined;
    for (const frame of pending) this.stream.write(frame);
    if (this.pendingEnd) this.stream.end();
  }

  /**
   * Sends one message. Resolves when the transport can take more (back-pressure);
   * rejects with the call's status once the call has ended.
   */
  sendMessage(message: MessageShape<DescMessage>, compress = true): Promise<void> | undefined {
    if (this.done) return undefined;
    const codec = compress ? this.sendCodec : undefined;
    // Uncompressed, the encoder writes the whole gRPC frame (prefix and payload) in one buffer.
    const framed = codec === undefined;
    let bytes: Uint8Array;
    try {
      const encoder = getMessageEncoder(this.method.input);
      bytes = framed ? encoder.encodeFramed(message) : encoder.encode(message);
    } catch (err) {
      this.cancelWith(new GrpcError(Code.INTERNAL, `failed to serialize request message of ${this.method.input.typeName}`, { cause: err }));
      return undefined;
    }
    const size = framed ? bytes.length - frameHeaderBytes : bytes.length;
    if (size > this.options.maxSendMessageBytes) {
      this.cancelWith(new GrpcError(Code.RESOURCE_EXHAUSTED, `request message of ${size} bytes is larger than the send limit of ${this.options.maxSendMessageBytes}`));
      return undefined;
    }
    if (framed && this.inflight === undefined) return this.writeFrame(bytes);
    const previous = this.inflight ?? Promise.resolve();
    const next = previous.then(async () => {
      const frame = codec === undefined ? bytes : encodeFrame(await codec.compress(bytes), flagCompressed);
      await this.writeFrame(frame);
    }).catch((err: unknown) => this.cancelWith(GrpcError.from(err, Code.INTERNAL, "failed to compress a request message")));
    this.inflight = next;
    void next.then(() => {
      if (this.inflight === next) this.inflight = undefined;
    });
    return next;
  }

  private writeFrame(frame: Uint8Array): Promise<void> | undefined {
    if (this.done) return undefined;
    if (this.stream === undefined) {
      this.pendingWrites!.push(frame);
      return undefined;
    }
    if (this.stream.write(frame)) return undefined;
    return new Promise<void>((resolve) => (this.drainWaiter = resolve));
  }

  /** Half-closes the request side after the messages sent so far. */
  halfClose(): void {
    if (this.done) return;
    const end = () => {
      if (this.done) return;
      if (this.stream === undefined) this.pendingEnd = true;
      else this.stream.end();
    };
    if (this.inflight !== undefined) void this.inflight.then(end);
    else end();
  }

  /** Cancels the call: RST_STREAM(CANCEL) to the server, CANCELLED (or `reason`) to the listener. */
  cancel(reason?: GrpcError): void {
    this.cancelWith(reason ?? new GrpcError(Code.CANCELLED, "call cancelled"));
  }

  /** Flow control for the response: stop or resume reading. */
  pause(): void {
    this.stream?.pause();
  }

  resume(): void {
    this.stream?.resume();
  }

  private abortWith(reason: unknown): void {
    if (reason instanceof GrpcError) this.cancelWith(reason);
    else this.cancelWith(new GrpcError(Code.CANCELLED, "call cancelled by its AbortSignal", { cause: reason }));
  }

  private cancelWith(error: GrpcError): void {
    if (this.done) return;
    const stream = this.stream;
    this.report(error, new Metadata());
    // After reporting: a transport that closes the stream synchronously (the h2 one) would
    // otherwise report "cancelled by the server" in place of this error.
    stream?.reset(Http2ErrorCode.CANCEL);
  }

  // ---- transport sink ----

  onHeaders(headers: Headers, endStream: boolean): void {
    if (this.done) return;
    if (endStream) {
      // Trailers-only: the status is in these headers.
      this.onTrailers(headers);
      return;
    }
    this.gotHeaders = true;
    const httpStatus = Number(headers[":status"]);
    const contentType = headers["content-type"];
    if (httpStatus !== 200) {
      this.cancelWith(new GrpcError(codeFromHttpStatus(httpStatus), `unexpected HTTP status ${httpStatus} from ${this.path}`));
      return;
    }
    if (typeof contentType !== "string" || !contentType.startsWith("application/grpc")) {
      this.cancelWith(new GrpcError(Code.UNKNOWN, `unexpected content-type ${JSON.stringify(contentType ?? "")} from ${this.path}`));
      return;
    }
    const encoding = headers["grpc-encoding"];
    if (typeof encoding === "string" && encoding !== identity) {
      this.responseCodec = this.channel.codecs.get(encoding);
      if (this.responseCodec === undefined) {
        this.cancelWith(new GrpcError(Code.INTERNAL, `response grpc-encoding ${JSON.stringify(encoding)} is not supported`));
        return;
      }
    }
    this.listener.onHeader(metadataFromHeaders(headers));
  }

  onData(chunk: Uint8Array): void {
    if (!this.done) this.decoder.push(chunk);
  }

  onFrame(flags: number, bytes: Uint8Array, start: number, end: number): void {
    if ((flags & flagCompressed) !== 0) {
      const codec = this.responseCodec;
      if (codec === undefined) {
        this.cancelWith(new GrpcError(Code.INTERNAL, "received a compressed message but the response has no grpc-encoding"));
        return;
      }
      const copy = bytes.slice(start, end);
      this.enqueue(() =>
        codec.decompress(copy, this.options.maxReceiveMessageBytes).then(
          (message) => this.onMessageBytes(message, 0, message.length, true),
          (err: unknown) =>
            this.cancelWith(err instanceof RangeError
              ? new GrpcError(Code.RESOURCE_EXHAUSTED, `decompressed response is larger than the limit of ${this.options.maxReceiveMessageBytes} bytes`)
              : new GrpcError(Code.INTERNAL, `failed to decompress a ${codec.name} response`, { cause: err })),
        ),
      );
      return;
    }
    if (this.inflight !== undefined) {
      const copy = bytes.slice(start, end);
      this.enqueue(() => this.onMessageBytes(copy, 0, copy.length));
      return;
    }
    this.onMessageBytes(bytes, start, end);
  }

  private enqueue(step: () => Promise<void> | void): void {
    const next = (this.inflight ?? Promise.resolve()).then(step);
    this.inflight = next;
    void next.then(() => {
      if (this.inflight === next) this.inflight = undefined;
    });
  }

  onFrameTooLarge(length: number, limit: number): void {
    this.cancelWith(new GrpcError(Code.RESOURCE_EXHAUSTED, `received message of ${length} bytes from ${this.path}, limit is ${limit}`));
  }

  /** A message's bytes: `bytes` from `start` to `end`. */
  private onMessageBytes(bytes: Uint8Array, start: number, end: number, compressed = false): void {
    if (this.done) return;
    let message: MessageShape<DescMessage>;
    try {
      message = this.responseDecoder.decode(bytes, start, end);
    } catch (err) {
      this.cancelWith(new GrpcError(Code.INTERNAL, `failed to parse response message of ${this.method.output.typeName}`, { cause: err }));
      return;
    }
    this.options.onResponseMessage?.({ compressed });
    this.listener.onMessage(message, end - start);
  }

  onTrailers(trailers: Headers): void {
    if (this.done) return;
    const error = statusFromTrailers(trailers, this.gotHeaders);
    const metadata = metadataFromHeaders(trailers);
    if (error !== undefined) error.metadata.merge(metadata);
    if (this.inflight !== undefined) void this.inflight.then(() => this.finishWithStatus(error, metadata));
    else this.finishWithStatus(error, metadata);
  }

  private finishWithStatus(error: GrpcError | undefined, metadata: Metadata): void {
    if (this.done) return;
    if (error === undefined && this.decoder.midMessage) {
      this.report(new GrpcError(Code.INTERNAL, "response ended in the middle of a message"), metadata);
      return;
    }
    this.report(error, metadata);
  }

  onClose(rstCode: number, connectionError: Error | undefined): void {
    if (this.done) return;
    if (this.inflight !== undefined) {
      // Trailers may still be waiting behind a decompression; they win if they came.
      void this.inflight.then(() => this.onClose(rstCode, connectionError));
      return;
    }
    if (connectionError !== undefined) {
      this.report(new GrpcError(Code.UNAVAILABLE, `connection to ${this.channel.authority} failed: ${connectionError.message}`, { cause: connectionError }), new Metadata());
      return;
    }
    this.report(rstCodeToStatus(rstCode), new Metadata());
  }

  onDrain(): void {
    const waiter = this.drainWaiter;
    this.drainWaiter = undefined;
    waiter?.();
  }

  private report(error: GrpcError | undefined, trailers: Metadata): void {
    if (this.done) return;
    this.done = true;
    if (this.waitingForPick) {
      this.waitingForPick = false;
      this.channel.cancelPick(this);
    }
    this.channel.callEnded();
    this.decoder.stop();
    this.timer?.clear();
    this.timer = undefined;
    if (this.onAbort !== undefined) this.options.signal?.removeEventListener("abort", this.onAbort);
    this.onDrain();
    this.listener.onStatus(error, trailers);
  }
}

/** Reads grpc-status, grpc-message and grpc-status-details-bin; undefined means OK. */
function statusFromTrailers(trailers: Headers, gotHeaders: boolean): GrpcError | undefined {
  const rawStatus = trailers["grpc-status"];
  if (rawStatus === undefined) {
    // No grpc-status: derive it from the HTTP status when this is the only header block.
    const httpStatus = gotHeaders ? 200 : Number(trailers[":status"]);
    const code = httpStatus === 200 ? Code.UNKNOWN : codeFromHttpStatus(httpStatus);
    return new GrpcError(code, httpStatus === 200 ? "response ended without grpc-status" : `unexpected HTTP status ${httpStatus}`);
  }
  const code = Number(rawStatus);
  if (!/^\d+$/.test(String(rawStatus))) return new GrpcError(Code.UNKNOWN, `unparseable grpc-status ${JSON.stringify(rawStatus)}`);
  if (code === Code.OK) return undefined;
  const rawMessage = trailers["grpc-message"];
  const message = typeof rawMessage === "string" ? decodeGrpcMessage(rawMessage) : "";
  const rawDetails = trailers["grpc-status-details-bin"];
  let details;
  if (typeof rawDetails === "string") {
    const bytes = decodeBase64(rawDetails);
    // grpc-status wins over the code inside the details when they disagree.
    if (bytes !== undefined) details = decodeStatusDetails(bytes)?.details;
  }
  return new GrpcError(code > 16 ? Code.UNKNOWN : (code as Code), message, { details });
}
