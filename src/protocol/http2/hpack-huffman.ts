/**
 * The HPACK Huffman code (RFC 7541 §5.2, Appendix B): encoding, and decoding four
 * bits at a time through a state table built once at load. The code is canonical, so
 * the table below holds only each symbol's code length; the codes follow from them.
 * Pure: no node: imports. Decoding errors (EOS inside a string, padding longer than
 * 7 bits or not all ones) are returned as undefined, never thrown.
 */

/**
 * Code length in bits of each symbol 0..255 and EOS (256), in symbol order: the "len"
 * column of RFC 7541 Appendix B.
 */
// prettier-ignore
const codeLengths: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const eos = 256;

/** Code of each symbol, right-aligned in `huffmanCodeLength[sym]` bits. */
export const huffmanCode = new Uint32Array(257);
export const huffmanCodeLength = new Uint8Array(codeLengths);

// Canonical assignment: by length, then by symbol, each code one more than the last,
// shifted left when the length grows.
{
  const order = Array.from({ length: 257 }, (_, sym) => sym).sort((a, b) => codeLengths[a]! - codeLengths[b]! || a - b);
  let code = 0;
  let length = codeLengths[order[0]!]!;
  for (const sym of order) {
    code *= 2 ** (codeLengths[sym]! - length);
    length = codeLengths[sym]!;
    huffmanCode[sym] = code;
    code += 1;
  }
}

/** Encoded length in bytes of `s` (latin1 characters) under the Huffman code. */
export function huffmanEncodedLength(s: string): number {
  let bits = 0;
  for (let i = 0; i < s.length; i++) bits += huffmanCodeLength[s.charCodeAt(i) & 0xff]!;
  return (bits + 7) >>> 3;
}

/**
 * Writes the Huffman encoding of `s` into `out` at `offset` (room for
 * `huffmanEncodedLength(s)` bytes must be there), padded with the EOS prefix (ones).
 * Returns the offset after it.
 */
export function huffmanEncode(s: string, out: Uint8Array, offset: number): number {
  let acc = 0; // pending bits, right-aligned
  let accBits = 0;
  let at = offset;
  for (let i = 0; i < s.length; i++) {
    const sym = s.charCodeAt(i) & 0xff;
    const length = huffmanCodeLength[sym]!;
    const code = huffmanCode[sym]!;
    // Codes are up to 30 bits: feed them in two halves so `acc` stays below 2^31.
    if (length > 16) {
      const high = length - 16;
      acc = (acc << high) | (code >>> 16);
      accBits += high;
      while (accBits >= 8) {
        accBits -= 8;
        out[at++] = (acc >>> accBits) & 0xff;
      }
      acc &= (1 << accBits) - 1;
      acc = (acc << 16) | (code & 0xffff);
      accBits += 16;
    } else {
      acc = (acc << length) | code;
      accBits += length;
    }
    while (accBits >= 8) {
      accBits -= 8;
      out[at++] = (acc >>> accBits) & 0xff;
    }
    acc &= (1 << accBits) - 1;
  }
  if (accBits > 0) out[at++] = ((acc << (8 - accBits)) | (0xff >>> accBits)) & 0xff;
  return at;
}

// ---- decoding: a 4-bit state machine ----
// States are the internal nodes of the code tree (256 of them, the root is 0). For each
// state and nibble the table holds the next state, the symbol emitted on the way (at
// most one: no code is shorter than 5 bits) and whether it failed (reached EOS).

const stateCount = 256;
/** next state (bits 0..7) | emitted symbol + 1 (bits 8..16, 0 = none) | failed (bit 17) */
const transitions = new Uint32Array(stateCount * 16);
/** A state is a valid end of string: reached from the root by at most 7 one-bits since the last symbol. */
const acceptingEnd = new Uint8Array(stateCount);

{
  // Build the tree: children of internal node n at left[n] / right[n]; a leaf is -(sym + 1).
  const left = new Int32Array(stateCount).fill(0x7fffffff);
  const right = new Int32Array(stateCount).fill(0x7fffffff);
  let nodes = 1;
  for (let sym = 0; sym <= eos; sym++) {
    const length = codeLengths[sym]!;
    const code = huffmanCode[sym]!;
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const one = Math.floor(code / 2 ** bit) % 2 === 1;
      const children = one ? right : left;
      if (bit === 0) {
        children[node] = -(sym + 1);
      } else {
        if (children[node] === 0x7fffffff) children[node] = nodes++;
        node = children[node]!;
      }
    }
  }
  // Accepting states: the all-ones path from the root, depth 0..7.
  let node = 0;
  for (let depth = 0; depth <= 7; depth++) {
    acceptingEnd[node] = 1;
    node = right[node]!;
  }
  for (let state = 0; state < stateCount; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let current = state;
      let emitted = 0;
      let failed = 0;
      for (let bit = 3; bit >= 0; bit--) {
        const child = ((nibble >>> bit) & 1) === 1 ? right[current]! : left[current]!;
        if (child < 0) {
          const sym = -child - 1;
          if (sym === eos) {
            failed = 1;
            break;
          }
          emitted = sym + 1;
          current = 0;
        } else {
          current = child;
        }
      }
      transitions[state * 16 + nibble] = current | (emitted << 8) | (failed << 17);
    }
  }
}

let scratch = new Uint8Array(256);

/**
 * Decodes Huffman-coded bytes into a latin1 string, or undefined when the input is
 * not a valid encoding (RFC 7541 §5.2: EOS in the string, over-long or non-one padding).
 */
export function huffmanDecode(bytes: Uint8Array): string | undefined {
  // Each symbol takes at least 5 bits.
  const maxOut = Math.ceil((bytes.length * 8) / 5);
  if (scratch.length < maxOut) scratch = new Uint8Array(Math.max(maxOut, scratch.length * 2));
  const out = scratch;
  let n = 0;
  let state = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    let t = transitions[state * 16 + (byte >>> 4)]!;
    if (t >= 1 << 17) return undefined;
    if (t > 0xff) out[n++] = (t >>> 8) - 1;
    state = t & 0xff;
    t = transitions[state * 16 + (byte & 0x0f)]!;
    if (t >= 1 << 17) return undefined;
    if (t > 0xff) out[n++] = ((t >>> 8) & 0x1ff) - 1;
    state = t & 0xff;
  }
  if (acceptingEnd[state] !== 1) return undefined;
  return latin1String(out, 0, n);
}

/** Bytes as a latin1 string (one character per byte), as HTTP/2 header values are read. */
export function latin1String(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length <= 0) return "";
  if (length < 4096) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let s = "";
  for (let at = start; at < end; at += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(at, Math.min(end, at + 4096)) as unknown as number[]);
  }
  return s;
}
