/**
 * The soak cases (rpc_soak, channel_soak) as grpc-go and grpc-java run them: a number of
 * large_unary-style calls in sequence; an iteration fails on an error or a latency above
 * the limit; the case fails when more iterations failed than allowed, or when they did
 * not all finish within the overall timeout.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import type { SoakSettings } from "./client-flags.js";

/**
 * Runs `iteration` settings.iterations times. `iteration(index, timeoutMs)` makes one call
 * (on a new channel for channel_soak), gives up after `timeoutMs` and throws when the call
 * or its response is wrong.
 */
export async function runSoak(settings: SoakSettings, iteration: (index: number, timeoutMs: number) => Promise<void>): Promise<void> {
  const { iterations, maxFailures, maxLatencyMs, overallTimeoutMs, minTimeBetweenRpcsMs } = settings;
  const start = performance.now();
  const failures: string[] = [];
  let completed = 0;
  for (let i = 0; i < iterations; i++) {
    const remainingMs = overallTimeoutMs - (performance.now() - start);
    if (remainingMs <= 0) break;
    const callStart = performance.now();
    try {
      await iteration(i, remainingMs);
      const latencyMs = performance.now() - callStart;
      if (latencyMs > maxLatencyMs) failures.push(`iteration ${i} took ${latencyMs.toFixed(0)} ms, limit ${maxLatencyMs} ms`);
    } catch (err) {
      failures.push(`iteration ${i}: ${err instanceof Error ? err.message : String(err)}`);
    }
    completed++;
    const waitMs = callStart + minTimeBetweenRpcsMs - performance.now();
    if (waitMs > 0 && i + 1 < iterations) await sleep(waitMs);
  }
  assert.ok(completed === iterations, `only ${completed} of ${iterations} soak iterations finished within ${overallTimeoutMs} ms`);
  assert.ok(
    failures.length <= maxFailures,
    `${failures.length} of ${iterations} soak iterations failed, at most ${maxFailures} may: ${failures.slice(0, 3).join("; ")}`,
  );
}
