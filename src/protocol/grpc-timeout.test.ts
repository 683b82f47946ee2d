import assert from "node:assert/strict";
import { test } from "node:test";
import { formatGrpcTimeout, parseGrpcTimeout } from "./grpc-timeout.js";

const parseCases = [
  ["1S", 1_000], ["100m", 100], ["99999999H", 99_999_999 * 3_600_000], ["5M", 300_000],
  ["1000u", 1], ["1000000n", 1], ["0m", 0],
  ["123456789S", "INVALID"], ["1s", "INVALID"], ["", "INVALID"], ["S", "INVALID"],
  ["-1S", "INVALID"], ["1.5S", "INVALID"], [" 1S", "INVALID"], ["1X", "INVALID"],
  ["1H", 3_600_000], ["0n", 0], ["99999999m", 99_999_999], ["00000001S", 1_000],
  ["100000000n", "INVALID"], ["1SS", "INVALID"], ["\uFF11S", "INVALID"], ["1 S", "INVALID"], ["1", "INVALID"],
] as const;

for (const [header, want] of parseCases) {
  test(`grpc-timeout ${JSON.stringify(header)} parses to ${want}`, () => {
    const got = parseGrpcTimeout(header);
    assert.deepEqual(got.ok ? got.ms : "INVALID", want);
  });
}

const formatCases = [
  [1, "1000u"], [0.0005, "500n"], [100_000, "100000m"], [99_999, "99999000u"],
  [100_000_000, "100000S"], [3_600_000 * 99_999_999 * 2, "99999999H"], [0, "1n"], [-5, "1n"],
  [1.5, "1500u"], [0.0000001, "1n"], [99_999.999, "99999999u"], [99_999_999, "99999999m"],
  [99_999_999.5, "100000S"], [99_999_999_001, "1666667M"], [Number.POSITIVE_INFINITY, "99999999H"],
] as const;

for (const [ms, want] of formatCases) {
  test(`formatGrpcTimeout(${ms}) is ${want}, never shorter than asked`, () => {
    const got = formatGrpcTimeout(ms);
    assert.equal(got, want);
    const parsed = parseGrpcTimeout(got);
    assert.ok(parsed.ok);
    if (ms > 0 && ms < 3_600_000 * 99_999_999) assert.ok(parsed.ms >= ms);
  });
}
