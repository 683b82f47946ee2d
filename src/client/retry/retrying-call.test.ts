/**
 * RetryingCall's decisions, with attempts scripted by the test (the wire-level
 * behaviour is proved in test/channel/retries.test.ts and hedging.test.ts): what is
 * replayed to a new attempt, when the call commits, and what stops retries — the
 * deadline, cancellation, the buffer limit, a second unprocessed attempt.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { create, isMessage, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { Metadata } from "../../protocol/metadata.js";
import { Code, GrpcError } from "../../protocol/status.js";
import type { CallListener } from "../call.js";
import type { RetryPolicy } from "../config/service-config.js";
import { RetryingCall, unprocessedErrors, type Attempt, type RetryOptions } from "./retrying-call.js";
import { RetryThrottle } from "./throttle.js";

/** An attempt the test drives: it records what the retry layer asks of it. */
class ScriptedAttempt implements Attempt {
  readonly sent: string[] = [];
  halfClosed = false;
  cancelled: GrpcError | undefined;
  finished = false;
  constructor(readonly previousAttempts: number, readonly listener: CallListener) {}
  start(): void {}
  sendMessage(message: MessageShape<DescMessage>): undefined {
    this.sent.push(isMessage(message, StringValueSchema) ? message.value : "?");
    return undefined;
  }
  halfClose(): void {
    this.halfClosed = true;
  }
  cancel(reason?: GrpcError): void {
    if (this.finished) return;
    this.cancelled = reason;
    this.fail(reason ?? new GrpcError(Code.CANCELLED, "cancelled"));
  }
  pause(): void {}
  resume(): void {}
  fail(error: GrpcError, trailers = new Metadata()): void {
    this.finished = true;
    this.listener.onStatus(error, trailers);
  }
  succeed(): void {
    this.listener.onHeader(new Metadata());
    this.finished = true;
    this.listener.onStatus(undefined, new Metadata());
  }
}

const policy: RetryPolicy = { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2, backoffMultiplier: 2, retryableStatusCodes: new Set([Code.UNAVAILABLE]) };
const unavailable = () => new GrpcError(Code.UNAVAILABLE, "try again");
const msg = (value: string) => create(StringValueSchema, { value });

function setUp(options: Partial<RetryOptions> = {}) {
  const attempts: ScriptedAttempt[] = [];
  const outcome: { error?: GrpcError; done: boolean; headers: number } = { done: false, headers: 0 };
  const call = new RetryingCall(
    (previous, listener) => {
      const attempt = new ScriptedAttempt(previous, listener);
      attempts.push(attempt);
      return attempt;
    },
    {
      onHeader: () => outcome.headers++,
      onMessage: () => undefined,
      onStatus: (error) => {
        outcome.error = error;
        outcome.done = true;
      },
    },
    { policy, throttle: undefined, bufferLimitBytes: 1_000, deadline: undefined, signal: undefined, messageSize: () => 10, ...options },
  );
  return { call, attempts, outcome };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await sleep(5);
}

test("replays the messages and half-close sent before and during the first attempt to the next", async () => {
  const { call, attempts, outcome } = setUp();
  call.sendMessage(msg("before start"));
  call.start();
  call.sendMessage(msg("after start"));
  call.halfClose();
  assert.deepEqual(attempts[0]!.sent, ["before start", "after start"]);
  attempts[0]!.fail(unavailable());
  await until(() => attempts.length === 2);
  assert.deepEqual(attempts[1]!.sent, ["before start", "after start"]);
  assert.equal(attempts[1]!.halfClosed, true);
  assert.equal(attempts[1]!.previousAttempts, 1);
  attempts[1]!.succeed();
  assert.deepEqual(outcome, { error: undefined, done: true, headers: 1 });
});

test("commits when the buffered messages pass the limit: a later failure is not retried", async () => {
  const { call, attempts, outcome } = setUp({ bufferLimitBytes: 15 });
  call.start();
  call.sendMessage(msg("10 bytes"));
  call.sendMessage(msg("20 bytes: over the limit"));
  attempts[0]!.fail(unavailable());
  await sleep(20);
  assert.equal(attempts.length, 1);
  assert.equal(outcome.error?.code, Code.UNAVAILABLE);
});

test("gives up when the backoff would end after the deadline", async () => {
  const slow: RetryPolicy = { ...policy, initialBackoffMs: 3_600_000, maxBackoffMs: 3_600_000 };
  const { call, attempts, outcome } = setUp({ policy: slow, deadline: Date.now() + 20 });
  call.start();
  // A uniform draw below one hour lands before a deadline 20 ms away once in 180 000.
  attempts[0]!.fail(unavailable());
  await until(() => outcome.done);
  assert.equal(attempts.length, 1);
  assert.equal(outcome.error?.code, Code.UNAVAILABLE);
});

test("cancellation during the backoff ends the call with no new attempt", async () => {
  const controller = new AbortController();
  const slow: RetryPolicy = { ...policy, initialBackoffMs: 200, maxBackoffMs: 200 };
  const { call, attempts, outcome } = setUp({ policy: slow, signal: controller.signal });
  call.start();
  attempts[0]!.fail(unavailable());
  controller.abort();
  assert.equal(outcome.error?.code, Code.CANCELLED);
  await sleep(300);
  assert.equal(attempts.length, 1);
});

test("an unprocessed attempt is replayed at once and not counted; a second one counts as a failure", async () => {
  const { call, attempts, outcome } = setUp({ policy: undefined });
  call.start();
  const refused = () => {
    const error = new GrpcError(Code.UNAVAILABLE, "REFUSED_STREAM");
    unprocessedErrors.add(error);
    return error;
  };
  attempts[0]!.fail(refused());
  assert.equal(attempts.length, 2, "replayed synchronously");
  assert.equal(attempts[1]!.previousAttempts, 0);
  attempts[1]!.fail(refused());
  assert.equal(attempts.length, 2);
  assert.equal(outcome.error?.code, Code.UNAVAILABLE);
});

test("records successes and retryable failures in the throttle", async () => {
  const throttle = new RetryThrottle({ maxTokens: 10, tokenRatio: 0.25 });
  const first = setUp({ throttle });
  first.call.start();
  first.attempts[0]!.fail(unavailable());
  await until(() => first.attempts.length === 2);
  first.attempts[1]!.succeed();
  assert.equal(throttle.available, 9.25);
  const second = setUp({ throttle });
  second.call.start();
  second.attempts[0]!.fail(new GrpcError(Code.INVALID_ARGUMENT, "not retryable"));
  assert.equal(throttle.available, 9.25, "a non-retryable status costs no token");
});
