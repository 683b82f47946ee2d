/**
 * Typed clients: `createClient(Service, channel)` gives one function per method,
 * shaped by the method kind — a Promise for unary responses, an async iterable for
 * streamed ones; requests as a message, or any (async) iterable of messages.
 * Without interceptors, a unary call is one ClientCall and one Promise.
 */
import type { DescMessage, DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { getMessageEncoder, getMessageMaker } from "../protocol/protobuf/index.js";
import { Metadata } from "../protocol/metadata.js";
import { Code, GrpcError } from "../protocol/status.js";
import { AsyncQueue, messageQueueHighWaterMark, messageWeight } from "../util/async-queue.js";
import { ClientCall, type CallListener, type StartCallOptions } from "./call.js";
import type { MethodConfig } from "./config/service-config.js";
import { RetryingCall, type RetryOptions } from "./retry/retrying-call.js";
import type { CallOptions } from "./call-options.js";
import type { Channel } from "./channel.js";
import type { CallCredentials } from "./credentials.js";
import { composeClientInterceptors, type ClientNext, type ClientRequest, type ClientResponse } from "./interceptor.js";

type RequestInit<I extends DescMessage> = MessageInitShape<I> | MessageShape<I>;
type Requests<I extends DescMessage> = Iterable<RequestInit<I>> | AsyncIterable<RequestInit<I>>;

export type UnaryMethod<I extends DescMessage, O extends DescMessage> =
  (request: RequestInit<I>, options?: CallOptions) => Promise<MessageShape<O>>;
export type ServerStreamingMethod<I extends DescMessage, O extends DescMessage> =
  (request: RequestInit<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>;
export type ClientStreamingMethod<I extends DescMessage, O extends DescMessage> =
  (requests: Requests<I>, options?: CallOptions) => Promise<MessageShape<O>>;
export type BidiStreamingMethod<I extends DescMessage, O extends DescMessage> =
  (requests: Requests<I>, options?: CallOptions) => AsyncIterable<MessageShape<O>>;

/**
 * A method whose kind is known only at run time: a Promise for unary and
 * client-streaming methods, an async iterable for the others (check `methodKind`).
 */
export type DynamicMethod = (
  request: RequestInit<DescMessage> | Requests<DescMessage>,
  options?: CallOptions,
) => Promise<MessageShape<DescMessage>> | AsyncIterable<MessageShape<DescMessage>>;

/** The client function for one method descriptor. */
export type ClientMethod<M extends DescMethod> =
  DescMethod["methodKind"] extends M["methodKind"] ? DynamicMethod
  : M extends { methodKind: "unary"; input: infer I extends DescMessage; output: infer O extends DescMessage } ? UnaryMethod<I, O>
  : M extends { methodKind: "server_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage } ? ServerStreamingMethod<I, O>
  : M extends { methodKind: "client_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage } ? ClientStreamingMethod<I, O>
  : M extends { methodKind: "bidi_streaming"; input: infer I extends DescMessage; output: infer O extends DescMessage } ? BidiStreamingMethod<I, O>
  : never;

/** A client for a service: one function per method, keyed by the method's localName. */
export type Client<S extends DescService> = {
  [K in keyof S["method"]]: ClientMethod<S["method"][K]>;
};

/** A typed client for `service` over `channel`. Works for descriptors known only at run time too. */
export function createClient<S extends DescService>(service: S, channel: Channel): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) client[method.localName] = createMethodCaller(method, channel);
  return client as Client<S>;
}

/** The client function for one method given its descriptor (dynamic calls: reflection, the CLI). */
export function createMethodCaller<M extends DescMethod>(method: M, channel: Channel): ClientMethod<M> {
  const chain = channel.interceptors.length > 0
    ? composeClientInterceptors(channel.interceptors, (req) => invokeTransport(channel, method, req))
    : undefined;
  const input = method.input;
  let fn: unknown;
  switch (method.methodKind) {
    case "unary":
      fn = chain === undefined
        ? (request: RequestInit<DescMessage>, options: CallOptions = {}) => unaryCall(channel, method, toMessage(input, request), options)
        : (request: RequestInit<DescMessage>, options: CallOptions = {}) =>
            chain(makeRequest(method, options, false, toMessage(input, request))).then(unaryResult);
      break;
    case "server_streaming":
      fn = chain === undefined
        ? (request: RequestInit<DescMessage>, options: CallOptions = {}) => streamCall(channel, method, toMessage(input, request), options).responses
        : (request: RequestInit<DescMessage>, options: CallOptions = {}) =>
            streamResult(chain(makeRequest(method, options, false, toMessage(input, request))));
      break;
    case "client_streaming":
      fn = chain === undefined
        ? (requests: Requests<DescMessage>, options: CallOptions = {}) => clientStreamCall(channel, method, requests, options)
        : (requests: Requests<DescMessage>, options: CallOptions = {}) =>
            chain(makeRequest(method, options, true, mapMessages(input, requests))).then(unaryResult);
      break;
    case "bidi_streaming":
      fn = chain === undefined
        ? (requests: Requests<DescMessage>, options: CallOptions = {}) => streamCall(channel, method, requests, options).responses
        : (requests: Requests<DescMessage>, options: CallOptions = {}) =>
            streamResult(chain(makeRequest(method, options, true, mapMessages(input, requests))));
      break;
  }
  return fn as ClientMethod<M>;
}

function toMessage(desc: DescMessage, value: RequestInit<DescMessage>): MessageShape<DescMessage> {
  return getMessageMaker(desc)(value);
}

async function* mapMessages(desc: DescMessage, requests: Requests<DescMessage>): AsyncIterable<MessageShape<DescMessage>> {
  for await (const request of requests) yield toMessage(desc, request);
}

function toMetadata(value: CallOptions["metadata"]): Metadata | undefined {
  if (value === undefined || value instanceof Metadata) return value;
  return new Metadata(value);
}

function makeRequest(method: DescMethod, options: CallOptions, stream: boolean, message: unknown): ClientRequest {
  return { method, options, stream, message, metadata: toMetadata(options.metadata)?.clone() ?? new Metadata() } as ClientRequest;
}

function unaryResult(res: ClientResponse): MessageShape<DescMessage> {
  if (res.stream) throw new GrpcError(Code.INTERNAL, "an interceptor returned a stream for a unary response");
  return res.message;
}

async function* streamResult(res: Promise<ClientResponse>): AsyncIterable<MessageShape<DescMessage>> {
  const response = await res;
  if (!response.stream) throw new GrpcError(Code.INTERNAL, "an interceptor returned a single message for a streamed response");
  yield* response.message;
}

// ---- starting a call ----

/**
 * The options of each attempt: call options combined with the method's service config
 * (the earlier deadline and the smaller size limits win; the call's waitForReady wins)
 * and with a parent handler context (its deadline and cancellation carry over).
 */
function startOptions(channel: Channel, options: CallOptions, metadata: Metadata | undefined, config: MethodConfig | undefined, startedAt: number): StartCallOptions {
  let deadline: number | undefined;
  if (options.timeoutMs !== undefined) deadline = startedAt + options.timeoutMs;
  if (config?.timeoutMs !== undefined) {
    const fromConfig = startedAt + config.timeoutMs;
    deadline = deadline === undefined ? fromConfig : Math.min(deadline, fromConfig);
  }
  if (options.deadline !== undefined) {
    const absolute = typeof options.deadline === "number" ? options.deadline : options.deadline.getTime();
    deadline = deadline === undefined ? absolute : Math.min(deadline, absolute);
  }
  let signal = options.signal;
  const parent = options.parent;
  if (parent !== undefined) {
    if (parent.deadline !== undefined) deadline = deadline === undefined ? parent.deadline : Math.min(deadline, parent.deadline);
    signal = signal === undefined ? parent.signal : AbortSignal.any([signal, parent.signal]);
  }
  return {
    metadata,
    deadline,
    signal,
    compression: options.compression ?? channel.options.compression,
    maxReceiveMessageBytes: Math.min(options.maxReceiveMessageBytes ?? channel.maxReceiveMessageBytes, config?.maxResponseMessageBytes ?? Infinity),
    maxSendMessageBytes: Math.min(channel.maxSendMessageBytes, config?.maxRequestMessageBytes ?? Infinity),
    waitForReady: options.waitForReady ?? config?.waitForReady ?? false,
    onResponseMessage: options.onResponseMessage,
  };
}

/** Request bytes kept for replay before a call with a retry policy commits (A6's per-RPC buffer). */
const retryBufferLimitBytes = 256 * 1024;

/**
 * Creates and starts a call — attempts under the retry layer, which replays them
 * transparently or by the method's retry or hedging policy — after call credentials
 * (if any) produced their metadata.
 */
function startCall(channel: Channel, method: DescMethod, options: CallOptions, metadata: Metadata | undefined, listener: CallListener): RetryingCall | undefined {
  const startedAt = Date.now();
  // Usually the config is known (the channel resolved already): take it now, no waiting.
  const knownConfig = channel.configured ? channel.methodConfig(method.parent.typeName, method.name) : undefined;
  let base = startOptions(channel, options, metadata, knownConfig, startedAt);
  const retryOptions = (config: MethodConfig | undefined): RetryOptions => {
    const policy = channel.options.retries === false ? undefined : config?.retryPolicy ?? config?.hedgingPolicy;
    return {
      policy,
      throttle: policy === undefined ? undefined : channel.retryThrottle(),
      bufferLimitBytes: retryBufferLimitBytes,
      deadline: base.deadline,
      signal: base.signal,
      messageSize: (message) => getMessageEncoder(method.input).encode(message).length,
    };
  };
  const call = new RetryingCall(
    (previousAttempts, attemptListener) =>
      new ClientCall(channel, method, previousAttempts === 0 ? base : { ...base, previousAttempts }, attemptListener),
    listener,
    retryOptions(knownConfig),
  );
  // gRFC A21: the method config comes from the channel's first resolution, so the call
  // waits for it (it would wait for a connection anyway); its deadline counts from now.
  const begin = (extra?: Metadata) => {
    if (channel.configured && knownConfig === channel.methodConfig(method.parent.typeName, method.name)) {
      if (!checkCompression()) return;
      call.start(extra);
      return;
    }
    channel.whenConfigured(() => {
      if (call.finished) return;
      const config = channel.methodConfig(method.parent.typeName, method.name);
      base = startOptions(channel, options, metadata, config, startedAt);
      if (!checkCompression()) return;
      call.configure(retryOptions(config));
      call.start(extra);
    });
  };
  const checkCompression = (): boolean => {
    if (base.compression === undefined || base.compression === "identity" || channel.codecs.get(base.compression) !== undefined) return true;
    call.cancel(new GrpcError(Code.INTERNAL, `compression ${JSON.stringify(base.compression)} is not registered on this channel`));
    return false;
  };
  const creds: readonly CallCredentials[] = options.credentials === undefined
    ? channel.credentials.callCredentials
    : [...channel.credentials.callCredentials, options.credentials];
  if (creds.length === 0) {
    begin();
    return call;
  }
  if (!channel.secure && creds.some((c) => !c.allowInsecure)) {
    call.cancel(new GrpcError(Code.UNAUTHENTICATED, "refusing to send call credentials over an insecure channel (set allowInsecure to permit it)"));
    return call;
  }
  const context = { methodPath: `/${method.parent.typeName}/${method.name}`, authority: channel.authority };
  // async: a generator that throws synchronously fails the call like one that rejects.
  Promise.all(creds.map(async (c) => c.generateMetadata(context))).then(
    (parts) => {
      const extra = new Metadata();
      // A later credential's key replaces an earlier one's: a per-call token overrides the
      // channel's (and node:http2 refuses two values for single-value headers like authorization).
      for (const part of parts) {
        for (const key of part.keys()) extra.delete(key);
        extra.merge(part);
      }
      begin(extra);
    },
    (err: unknown) => call.cancel(GrpcError.from(err, Code.UNAUTHENTICATED, `call credentials failed: ${(err as Error)?.message ?? String(err)}`)),
  );
  return call;
}

/** Collects a single response message; the status settles the promise. */
class UnaryListener implements CallListener {
  call: RetryingCall | undefined;
  header: Metadata | undefined;
  trailer: Metadata | undefined;
  private message: MessageShape<DescMessage> | undefined;
  private count = 0;

  constructor(
    private readonly options: CallOptions,
    private readonly resolve: (message: MessageShape<DescMessage>) => void,
    private readonly reject: (error: GrpcError) => void,
  ) {}

  onHeader(metadata: Metadata): void {
    this.header = metadata;
    this.options.onHeader?.(metadata);
  }

  onMessage(message: MessageShape<DescMessage>): void {
    if (++this.count > 1) {
      this.call?.cancel(new GrpcError(Code.UNIMPLEMENTED, "received more than one response message for a unary response"));
      return;
    }
    this.message = message;
  }

  onStatus(error: GrpcError | undefined, trailers: Metadata): void {
    this.trailer = trailers;
    this.options.onTrailer?.(trailers);
    if (error !== undefined) this.reject(error);
    else if (this.message === undefined) this.reject(new GrpcError(Code.UNIMPLEMENTED, "call ended OK without a response message", { metadata: trailers }));
    else this.resolve(this.message);
  }
}

function unaryCall(channel: Channel, method: DescMethod, request: MessageShape<DescMessage>, options: CallOptions): Promise<MessageShape<DescMessage>> {
  return new Promise((resolve, reject) => {
    const listener = new UnaryListener(options, resolve, reject);
    const call = startCall(channel, method, options, toMetadata(options.metadata), listener);
    if (call === undefined) return;
    listener.call = call;
    call.sendMessage(request);
    call.halfClose();
  });
}

function clientStreamCall(channel: Channel, method: DescMethod, requests: Requests<DescMessage>, options: CallOptions): Promise<MessageShape<DescMessage>> {
  return new Promise((resolve, reject) => {
    const listener = new UnaryListener(options, resolve, reject);
    const call = startCall(channel, method, options, toMetadata(options.metadata), listener);
    if (call === undefined) return;
    listener.call = call;
    void pumpRequests(call, method.input, requests, options.compressMessage);
  });
}

/** Sends every request message with back-pressure, then half-closes. */
async function pumpRequests(
  call: RetryingCall,
  desc: DescMessage,
  requests: Requests<DescMessage>,
  compressMessage: ((index: number) => boolean) | undefined,
): Promise<void> {
  let index = 0;
  try {
    for await (const request of requests) {
      if (call.finished) return;
      const pending = call.sendMessage(toMessage(desc, request), compressMessage === undefined ? true : compressMessage(index));
      index++;
      if (pending !== undefined) await pending;
    }
  } catch (err) {
    call.cancel(GrpcError.from(err, Code.CANCELLED, `the request stream failed: ${(err as Error)?.message ?? String(err)}`));
    return;
  }
  call.halfClose();
}

/** Feeds response messages into an async iterable; a consumer that stops early cancels the call. */
class StreamListener implements CallListener {
  call: RetryingCall | undefined;
  readonly responses: AsyncQueue<MessageShape<DescMessage>>;
  header: Metadata | undefined;
  readonly trailer = new Metadata();
  /** Headers, or the error that ended the call before any: what a stream response waits for. */
  headerResult: Metadata | GrpcError | undefined;
  headerWaiter: ((header: Metadata | GrpcError) => void) | undefined;

  constructor(private readonly options: CallOptions) {
    this.responses = new AsyncQueue(messageQueueHighWaterMark, (pause) => (pause ? this.call?.pause() : this.call?.resume()), () => this.call?.cancel());
  }

  onHeader(metadata: Metadata): void {
    this.header = metadata;
    this.options.onHeader?.(metadata);
    this.settleHeader(metadata);
  }

  private settleHeader(result: Metadata | GrpcError): void {
    if (this.headerResult !== undefined) return;
    this.headerResult = result;
    this.headerWaiter?.(result);
    this.headerWaiter = undefined;
  }

  onMessage(message: MessageShape<DescMessage>, encodedBytes: number): void {
    this.responses.push(message, messageWeight(encodedBytes));
  }

  onStatus(error: GrpcError | undefined, trailers: Metadata): void {
    this.trailer.merge(trailers);
    // Trailers come after the messages for the reader too, even when all arrived at once.
    const onTrailer = this.options.onTrailer;
    if (onTrailer !== undefined) this.responses.whenConsumed(() => onTrailer(trailers));
    // Messages received before an error status are still delivered, then the error.
    if (error !== undefined) this.responses.failAfterBuffered(error);
    else this.responses.end();
    this.settleHeader(error ?? new Metadata());
  }
}

function streamCall(channel: Channel, method: DescMethod, request: MessageShape<DescMessage> | Requests<DescMessage>, options: CallOptions, metadata = toMetadata(options.metadata)): StreamListener {
  const listener = new StreamListener(options);
  const call = startCall(channel, method, options, metadata, listener);
  if (call === undefined) return listener;
  listener.call = call;
  if (method.methodKind === "server_streaming") {
    call.sendMessage(request as MessageShape<DescMessage>);
    call.halfClose();
  } else {
    void pumpRequests(call, method.input, request as Requests<DescMessage>, options.compressMessage);
  }
  return listener;
}

/** The innermost `next` of an interceptor chain: the call on the wire. */
function invokeTransport(channel: Channel, method: DescMethod, req: ClientRequest): Promise<ClientResponse> {
  const kind = method.methodKind;
  if (kind === "unary" || kind === "client_streaming") {
    let listener: UnaryListener | undefined;
    const done = new Promise<MessageShape<DescMessage>>((resolve, reject) => {
      listener = new UnaryListener(req.options, resolve, reject);
      const call = startCall(channel, method, req.options, req.metadata, listener);
      if (call === undefined) return;
      listener.call = call;
      if (req.stream) {
        void pumpRequests(call, method.input, req.message, req.options.compressMessage);
      } else {
        call.sendMessage(req.message);
        call.halfClose();
      }
    });
    return done.then((message) => ({ stream: false, message, header: listener!.header ?? new Metadata(), trailer: listener!.trailer ?? new Metadata() }));
  }
  const listener = streamCall(channel, method, req.message as MessageShape<DescMessage> | Requests<DescMessage>, req.options, req.metadata);
  return new Promise<ClientResponse>((resolve, reject) => {
    const settle = (header: Metadata | GrpcError) => {
      if (header instanceof GrpcError) reject(header);
      else resolve({ stream: true, message: listener.responses, header, trailer: listener.trailer });
    };
    if (listener.headerResult !== undefined) settle(listener.headerResult);
    else listener.headerWaiter = settle;
  });
}

export type { ClientNext };
