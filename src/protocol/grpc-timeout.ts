/**
 * grpc-timeout header: at most 8 digits and one unit (H M S m u n).
 * Pure: no I/O, no node: imports. Out-of-range values are errors, never clamped,
 * because a silently shortened deadline is worse than a rejected call.
 */

export type ParsedTimeout = { ok: true; ms: number } | { ok: false; error: string };

const unitMs: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1_000, m: 1, u: 0.001, n: 0.000_001 };

/** Parses a grpc-timeout value into milliseconds (fractions kept for u and n). */
export function parseGrpcTimeout(value: string): ParsedTimeout {
  const digits = value.length - 1;
  if (digits < 1 || digits > 8) return { ok: false, error: `grpc-timeout ${JSON.stringify(value)} must be 1 to 8 digits and a unit` };
  const scale = unitMs[value[digits]!];
  if (scale === undefined) return { ok: false, error: `grpc-timeout ${JSON.stringify(value)} has no valid unit (H M S m u n)` };
  let n = 0;
  for (let i = 0; i < digits; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return { ok: false, error: `grpc-timeout ${JSON.stringify(value)} is not a number` };
    n = n * 10 + c;
  }
  return { ok: true, ms: n * scale };
}

const maxDigits = 99_999_999;

/**
 * Formats a positive duration for the wire, rounding up (a deadline must never shrink)
 * and moving to a coarser unit rather than overflowing 8 digits.
 */
export function formatGrpcTimeout(ms: number): string {
  if (!(ms > 0)) return "1n";
  if (ms < 1) return `${Math.ceil(ms * 1_000_000)}n`;
  const micros = Math.ceil(ms * 1000);
  if (micros <= maxDigits) return `${micros}u`;
  const millis = Math.ceil(ms);
  if (millis <= maxDigits) return `${millis}m`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds <= maxDigits) return `${seconds}S`;
  const minutes = Math.ceil(ms / 60_000);
  if (minutes <= maxDigits) return `${minutes}M`;
  return `${Math.min(Math.ceil(ms / 3_600_000), maxDigits)}H`;
}
