/**
 * Assertions the interop clients share, each failing with a one-line reason that names
 * what was checked, what came and what was wanted (the runner prints it as is).
 */
import assert from "node:assert/strict";
import { inspect, isDeepStrictEqual } from "node:util";

/** Asserts that `actual` deep-equals `expected`. */
export function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (isDeepStrictEqual(actual, expected)) return;
  const show = (v: unknown) => inspect(v, { breakLength: Infinity, maxArrayLength: 8, maxStringLength: 120 });
  assert.fail(`${what}: got ${show(actual)}, want ${show(expected)}`);
}

/** Asserts a payload of exactly `size` zero bytes. */
export function expectZeroPayload(payload: { body: Uint8Array } | null | undefined, size: number, what = "response"): void {
  assert.ok(payload !== undefined && payload !== null, `${what} has no payload`);
  expectEqual(payload.body.length, size, `${what} payload size`);
  assert.ok(payload.body.every((b) => b === 0), `${what} payload is not all zeros`);
}

export function zeros(size: number): Uint8Array {
  return new Uint8Array(size);
}
