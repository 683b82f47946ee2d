/**
 * Retries and hedging (gRFC A6) above the balancer, so attempts can reach other
 * backends. Request messages are buffered and replayed to each attempt until the call
 * commits: when an attempt receives response headers or a message, or the buffer
 * passes its limit. Without a policy the same object gives calls their transparent
 * retry: an attempt the server never processed (REFUSED_STREAM, a stream above a
 * GOAWAY's last id) is replayed once at once, not counted as an attempt.
 */
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { Metadata } from "../../protocol/metadata.js";
import { Code, GrpcError } from "../../protocol/status.js";
import type { HedgingPolicy, RetryPolicy } from "../config/service-config.js";
import type { CallListener } from "../call.js";
import type { RetryThrottle } from "./throttle.js";

/** What the retry layer needs of one attempt (a ClientCall). */
export interface Attempt {
  start(extraMetadata?: Metadata): void;
  sendMessage(message: MessageShape<DescMessage>, compress?: boolean): Promise<void> | undefined;
  halfClose(): void;
  cancel(reason?: GrpcError): void;
  pause(): void;
  resume(): void;
  readonly finished: boolean;
}

/** Creates attempt number `previousAttempts + 1`; the factory adds grpc-previous-rpc-attempts when > 0. */
export type AttemptFactory = (previousAttempts: number, listener: CallListener) => Attempt;

export interface RetryOptions {
  readonly policy: RetryPolicy | HedgingPolicy | undefined;
  readonly throttle: RetryThrottle | undefined;
  /** Bytes of request messages kept for replay before the call commits. Default 256 KiB. */
  readonly bufferLimitBytes: number;
  /** Absolute deadline of the whole call (all attempts), epoch ms. */
  readonly deadline: number | undefined;
  /** The call's cancellation: no new attempt once it aborted. */
  readonly signal: AbortSignal | undefined;
  /** Sizes a message for the buffer limit. */
  readonly messageSize: (message: MessageShape<DescMessage>) => number;
}

/** Errors of attempts the server never processed: safe to replay at once. */
export const unprocessedErrors = new WeakSet<GrpcError>();

const pushbackKey = "grpc-retry-pushback-ms";
/** Without a policy, messages kept for a transparent retry before the call commits anyway. */
const transparentBufferMessages = 64;

function abortError(signal: AbortSignal): GrpcError {
  return signal.reason instanceof GrpcError ? signal.reason : new GrpcError(Code.CANCELLED, "call cancelled by its AbortSignal", { cause: signal.reason });
}

function isHedging(policy: RetryPolicy | HedgingPolicy | undefined): policy is HedgingPolicy {
  return policy !== undefined && "hedgingDelayMs" in policy;
}

/** Reads grpc-retry-pushback-ms: a delay in ms, "stop" (negative or garbage), or undefined when absent. */
function pushback(trailers: Metadata): number | "stop" | undefined {
  const raw = trailers.getString(pushbackKey);
  if (raw === undefined) return undefined;
  return /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : "stop";
}

class AttemptListener implements CallListener {
  attempt!: Attempt;
  constructor(private readonly owner: RetryingCall, readonly number: number) {}
  onHeader(metadata: Metadata): void {
    this.owner.attemptHeader(this, metadata);
  }
  onMessage(message: MessageShape<DescMessage>, encodedBytes: number): void {
    this.owner.attemptMessage(this, message, encodedBytes);
  }
  onStatus(error: GrpcError | undefined, trailers: Metadata): void {
    this.owner.attemptStatus(this, error, trailers);
  }
}

export class RetryingCall implements Attempt {
  private readonly buffer: { message: MessageShape<DescMessage>; compress: boolean }[] = [];
  private bufferBytes = 0;
  private halfClosed = false;
  private committed: AttemptListener | undefined;
  private readonly active = new Set<AttemptListener>();
  private attempts = 0;
  private transparentRetried = false;
  private done = false;
  private extra: Metadata | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private hedgeTimer: ReturnType<typeof setTimeout> | undefined;
  private backoffMs: number;
  private paused = false;
  private onAbort: (() => void) | undefined;

  /** Senders waiting for start() (back-pressure while the channel resolves). */
  private startWaiters: (() => void)[] | undefined = [];

  constructor(
    private readonly factory: AttemptFactory,
    private readonly listener: CallListener,
    private options: RetryOptions,
  ) {
    this.backoffMs = 0;
    this.configure(options);
  }

  /**
   * Sets what is known only once the channel has its service config (the policy, a
   * deadline from the method config); before start().
   */
  configure(options: RetryOptions): void {
    this.options = options;
    const policy = options.policy;
    this.backoffMs = policy !== undefined && !isHedging(policy) ? policy.initialBackoffMs : 0;
    if (this.onAbort !== undefined) this.options.signal?.removeEventListener("abort", this.onAbort);
    this.onAbort = undefined;
    // Between attempts no attempt listens to the signal: the retry layer does.
    if (policy !== undefined && options.signal !== undefined) {
      const signal = options.signal;
      this.onAbort = () => this.cancel(abortError(signal));
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  get finished(): boolean {
    return this.done;
  }

  start(extraMetadata?: Metadata): void {
    this.extra = extraMetadata;
    const waiters = this.startWaiters;
    this.startWaiters = undefined;
    this.startAttempt();
    for (const resolve of waiters ?? []) resolve();
  }

  private startAttempt(): void {
    if (this.done) return;
    const listener = new AttemptListener(this, this.attempts);
    this.attempts++;
    const attempt = this.factory(listener.number, listener);
    listener.attempt = attempt;
    this.active.add(listener);
    if (this.paused) attempt.pause();
    attempt.start(this.extra);
    for (const { message, compress } of this.buffer) void attempt.sendMessage(message, compress);
    if (this.halfClosed) attempt.halfClose();
    const policy = this.options.policy;
    if (isHedging(policy) && this.committed === undefined && this.attempts < policy.maxAttempts && policy.hedgingDelayMs > 0) {
      clearTimeout(this.hedgeTimer);
      this.hedgeTimer = setTimeout(() => this.hedge(), policy.hedgingDelayMs);
    } else if (isHedging(policy) && policy.hedgingDelayMs === 0 && this.attempts < policy.maxAttempts) {
      queueMicrotask(() => this.hedge());
    }
  }

  private hedge(): void {
    this.hedgeTimer = undefined;
    if (this.done || this.committed !== undefined) return;
    if (this.options.throttle !== undefined && !this.options.throttle.allowsRetry()) return;
    this.startAttempt();
  }

  sendMessage(message: MessageShape<DescMessage>, compress = true): Promise<void> | undefined {
    if (this.done) return undefined;
    if (this.committed !== undefined) return this.committed.attempt.sendMessage(message, compress);
    this.buffer.push({ message, compress });
    if (this.startWaiters !== undefined) {
      // Not started yet: the first attempt replays the buffer; hold the sender back till then.
      const waiters = this.startWaiters;
      return new Promise((resolve) => waiters.push(resolve));
    }
    if (this.options.policy === undefined) {
      if (this.buffer.length > transparentBufferMessages) {
        const newest = [...this.active].at(-1);
        if (newest !== undefined) this.commit(newest);
      }
    } else {
      this.bufferBytes += this.options.messageSize(message);
      if (this.bufferBytes > this.options.bufferLimitBytes) {
        // Too much to replay: stay with the newest attempt.
        const newest = [...this.active].at(-1);
        if (newest !== undefined) this.commit(newest);
      }
    }
    let pending: Promise<void> | undefined;
    for (const l of this.active) pending = l.attempt.sendMessage(message, compress) ?? pending;
    return pending;
  }

  halfClose(): void {
    if (this.done || this.halfClosed) return;
    this.halfClosed = true;
    for (const l of this.active) l.attempt.halfClose();
  }

  cancel(reason?: GrpcError): void {
    if (this.done) return;
    const error = reason ?? new GrpcError(Code.CANCELLED, "call cancelled");
    for (const l of [...this.active]) l.attempt.cancel(error);
    if (!this.done) this.finish(error, new Metadata());
  }

  pause(): void {
    this.paused = true;
    for (const l of this.active) l.attempt.pause();
  }

  resume(): void {
    this.paused = false;
    for (const l of this.active) l.attempt.resume();
  }

  // ---- attempt events ----

  attemptHeader(l: AttemptListener, metadata: Metadata): void {
    if (this.done || (this.committed !== undefined && this.committed !== l)) return;
    this.commit(l);
    this.listener.onHeader(metadata);
  }

  attemptMessage(l: AttemptListener, message: MessageShape<DescMessage>, encodedBytes: number): void {
    if (this.done || (this.committed !== undefined && this.committed !== l)) return;
    this.commit(l);
    this.listener.onMessage(message, encodedBytes);
  }

  attemptStatus(l: AttemptListener, error: GrpcError | undefined, trailers: Metadata): void {
    this.active.delete(l);
    if (this.done) return;
    if (this.committed === l || error === undefined) {
      if (error === undefined) this.options.throttle?.recordSuccess();
      else if (this.options.policy !== undefined && this.retryable(error.code)) this.options.throttle?.recordFailure();
      this.finish(error, trailers);
      return;
    }
    if (this.committed !== undefined) return; // a losing hedge
    if (this.options.signal?.aborted === true || (this.options.deadline !== undefined && Date.now() >= this.options.deadline)) {
      return this.finish(error, trailers);
    }
    if (unprocessedErrors.has(error) && !this.transparentRetried) {
      this.transparentRetried = true;
      this.attempts--; // not counted against maxAttempts
      this.startAttempt();
      return;
    }
    const policy = this.options.policy;
    if (policy === undefined) return this.finish(error, trailers);
    const retryable = this.retryable(error.code);
    if (retryable) this.options.throttle?.recordFailure();
    const push = pushback(trailers);
    if (!retryable || push === "stop") return this.failOrWait(error, trailers);
    if (this.options.throttle !== undefined && !this.options.throttle.allowsRetry()) return this.failOrWait(error, trailers);
    if (this.attempts >= policy.maxAttempts) return this.failOrWait(error, trailers);
    if (isHedging(policy)) {
      // A non-fatal failure starts the next hedge at once (or after the pushback).
      clearTimeout(this.hedgeTimer);
      if (push !== undefined) this.hedgeTimer = setTimeout(() => this.hedge(), push);
      else this.hedge();
      return;
    }
    let delay: number;
    if (push !== undefined) {
      delay = push;
      this.backoffMs = policy.initialBackoffMs;
    } else {
      delay = Math.random() * this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * policy.backoffMultiplier, policy.maxBackoffMs);
    }
    if (this.options.deadline !== undefined && Date.now() + delay >= this.options.deadline) return this.finish(error, trailers);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.startAttempt();
    }, delay);
  }

  /** Hedging: fail only when no other attempt is still running or due. */
  private failOrWait(error: GrpcError, trailers: Metadata): void {
    if (isHedging(this.options.policy) && (this.active.size > 0 || this.hedgeTimer !== undefined)) {
      if (!this.retryable(error.code)) {
        // A fatal status ends the call: cancel the other hedges. Finish first, so the
        // call reports this status, not the CANCELLED of the hedges cancelled here.
        const others = [...this.active];
        this.finish(error, trailers);
        for (const other of others) other.attempt.cancel(new GrpcError(Code.CANCELLED, "another hedged attempt failed fatally"));
        return;
      }
      return;
    }
    this.finish(error, trailers);
  }

  private retryable(code: Code): boolean {
    const policy = this.options.policy;
    if (policy === undefined) return false;
    return isHedging(policy) ? policy.nonFatalStatusCodes.has(code) : policy.retryableStatusCodes.has(code);
  }

  private commit(l: AttemptListener): void {
    if (this.committed !== undefined) return;
    this.committed = l;
    this.buffer.length = 0;
    clearTimeout(this.hedgeTimer);
    this.hedgeTimer = undefined;
    for (const other of [...this.active]) {
      if (other !== l) other.attempt.cancel(new GrpcError(Code.CANCELLED, "another hedged attempt won"));
    }
  }

  private finish(error: GrpcError | undefined, trailers: Metadata): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.retryTimer);
    clearTimeout(this.hedgeTimer);
    this.buffer.length = 0;
    if (this.onAbort !== undefined) this.options.signal?.removeEventListener("abort", this.onAbort);
    const waiters = this.startWaiters;
    this.startWaiters = undefined;
    for (const resolve of waiters ?? []) resolve();
    this.listener.onStatus(error, trailers);
  }

  /** For tests and diagnostics: attempts started so far. */
  get attemptCount(): number {
    return this.attempts;
  }
}
