/**
 * 64-bit integers (int64, uint64, sint64, fixed64, sfixed64) as protobuf-es v2 holds
 * them: bigint, or a decimal string for fields with jstype = JS_STRING. Pure: no node:
 * imports. Values are accepted exactly where protoInt64.parse / uParse accept them;
 * anything else leaves the fast path.
 */
import { fallback } from "./encode-state.js";

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
const uint64Max = 2n ** 64n - 1n;

/** The two unsigned 32-bit words of the last value split by splitInt64 / splitUint64;
 *  one shared object so the hot path allocates nothing. */
export const words = { lo: 0, hi: 0 };

const scratch = new DataView(new ArrayBuffer(8));

/** Converts like protoInt64's BigInt(value); BigInt throws for what it rejects too,
 *  and the encoder turns any throw into a call to toBinary. */
function toBigInt(value: unknown): bigint {
  if (typeof value === "bigint") return value;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
    return BigInt(value);
  }
  return fallback();
}

/** Splits a signed 64-bit value into two's-complement words in `words`. */
export function splitInt64(value: unknown): void {
  const v = toBigInt(value);
  if (v < int64Min || v > int64Max) fallback();
  splitInRange(v);
}

/** Splits an unsigned 64-bit value into words in `words`. */
export function splitUint64(value: unknown): void {
  const v = toBigInt(value);
  if (v < 0n || v > uint64Max) fallback();
  splitInRange(v);
}

function splitInRange(v: bigint): void {
  // setBigInt64 wraps modulo 2^64, which is exactly the two's complement of a signed
  // value and the bit pattern of an unsigned one; both are range-checked above.
  scratch.setBigInt64(0, v, true);
  words.lo = scratch.getUint32(0, true);
  words.hi = scratch.getUint32(4, true);
}

/** Zigzag-encodes the signed value in `words` in place (sint64). */
export function zigzagWords(): void {
  const { lo, hi } = words;
  const sign = hi >> 31; // all ones for a negative value
  words.lo = ((lo << 1) ^ sign) >>> 0;
  words.hi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
}
