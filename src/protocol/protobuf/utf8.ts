/**
 * UTF-8 for protobuf strings: the exact byte length (for the size pass), the bytes
 * (for the write pass), and ASCII writes that check the size pass's guess. Pure: no
 * node: imports. Output matches TextEncoder, which toBinary uses: a lone surrogate
 * becomes U+FFFD (EF BF BD).
 */

// Thresholds measured on Node 20 (V8 11.3) by instruction count: a JS loop over a
// string costs about 30 instructions per character, the ASCII regex about 400 plus 7
// per character, and TextEncoder.encodeInto (with the subarray it needs) about 1600
// plus 1 per character. Short strings loop; long ones go native.

/** From this length on, the size pass tests for ASCII with a regex, not a loop. */
const asciiRegexMinLength = 12;
/** From this length on, UTF-8 is written (and non-ASCII text measured) natively. */
const nativeEncodeMinLength = 40;

const asciiOnly = /^[\x00-\x7f]*$/;
const textEncoder = typeof TextEncoder === "function" ? new TextEncoder() : undefined;
/** Scratch space kept for measuring; a longer string gets a temporary buffer. */
const maxScratchBytes = 64 * 1024;
let scratch = new Uint8Array(0);

/** UTF-8 bytes of `s`. Equal to `s.length` exactly when `s` is all ASCII. */
export function utf8ByteLength(s: string): number {
  const n = s.length;
  if (n < asciiRegexMinLength) return countUtf8(s);
  if (asciiOnly.test(s)) return n;
  if (n < nativeEncodeMinLength || textEncoder === undefined) return countUtf8(s);
  // Encoding into scratch space is cheaper than counting in JS; the write pass
  // encodes again, straight into the output.
  if (n * 3 > maxScratchBytes) return textEncoder.encodeInto(s, new Uint8Array(n * 3)).written;
  if (scratch.length < n * 3) scratch = new Uint8Array(n * 3);
  return textEncoder.encodeInto(s, scratch).written;
}

function countUtf8(s: string): number {
  const n = s.length;
  let bytes = n;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      bytes += 1;
    } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n && isLowSurrogate(s.charCodeAt(i + 1))) {
      bytes += 2; // two UTF-16 units, four UTF-8 bytes
      i++;
    } else {
      bytes += 2; // includes a lone surrogate, written as U+FFFD
    }
  }
  return bytes;
}

/**
 * Writes `s` into `buf` at `pos` if it is all ASCII (one byte per character), which
 * `buf` has room for. Returns the position after the last byte, or -1 as soon as a
 * character is not ASCII; bytes written before that are garbage.
 */
export function writeAscii(buf: Uint8Array, pos: number, s: string): number {
  const n = s.length;
  if (n >= nativeEncodeMinLength && textEncoder !== undefined) {
    const { read, written } = textEncoder.encodeInto(s, buf.subarray(pos, pos + n));
    return read === n && written === n ? pos + n : -1;
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return -1;
    buf[pos + i] = c;
  }
  return pos + n;
}

/**
 * Writes `s` as UTF-8 into `buf` at `pos`; `byteLength` is utf8ByteLength(s), and
 * `buf` has room for it. Returns the position after the last byte.
 */
export function writeUtf8(buf: Uint8Array, pos: number, s: string, byteLength: number): number {
  const n = s.length;
  if (n >= nativeEncodeMinLength && textEncoder !== undefined) {
    textEncoder.encodeInto(s, buf.subarray(pos, pos + byteLength));
    return pos + byteLength;
  }
  if (byteLength === n) {
    for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
    return pos + n;
  }
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c < 0xe000) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && isLowSurrogate(next)) {
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        i++;
        buf[pos++] = 0xf0 | (c >> 18);
        buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
        buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
        buf[pos++] = 0x80 | (c & 0x3f);
      } else {
        buf[pos++] = 0xef; // lone surrogate: U+FFFD, as TextEncoder writes it
        buf[pos++] = 0xbf;
        buf[pos++] = 0xbd;
      }
    } else {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

function isLowSurrogate(c: number): boolean {
  return c >= 0xdc00 && c < 0xe000;
}
