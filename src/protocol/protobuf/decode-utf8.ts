/**
 * UTF-8 to string for the compiled decoder, with fromBinary's results: TextDecoder
 * with ignoreBOM (a leading U+FEFF is text), fatal for fields with utf8Validation
 * (invalid UTF-8 throws), U+FFFD replacement otherwise. Pure: no node: imports.
 */

// Measured on Node 20: TextDecoder costs about 200 ns for any short string, the JS
// loop below about 4 ns per byte; short ASCII strings, the common keys and ids, loop.

/** Up to this many bytes, ASCII is decoded in JS. */
const asciiLoopMaxBytes = 48;

const lenient = typeof TextDecoder === "function" ? new TextDecoder("utf-8", { ignoreBOM: true }) : undefined;
const strict = typeof TextDecoder === "function" ? new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }) : undefined;

/** Without TextDecoder the decoder is not compiled (fromBinary needs it too). */
export const textDecoderAvailable = lenient !== undefined && strict !== undefined;

/** The string in buf[start, end). `validate`: throw a TypeError on invalid UTF-8. */
export function decodeUtf8(buf: Uint8Array, start: number, end: number, validate: boolean): string {
  if (end - start <= asciiLoopMaxBytes) {
    const ascii = decodeShortAscii(buf, start, end);
    if (ascii !== undefined) return ascii;
  }
  const decoder = validate ? strict : lenient;
  if (decoder === undefined) throw new Error("TextDecoder missing");
  return decoder.decode(buf.subarray(start, end));
}

/** The string if every byte is ASCII, else undefined. Each call to
 *  String.fromCharCode costs about as much as several characters, so it takes up to
 *  eight at a time: whole chunks of eight, then the rest in one call. */
function decodeShortAscii(buf: Uint8Array, start: number, end: number): string | undefined {
  let text = "";
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const a = buf[i]!;
    const b = buf[i + 1]!;
    const c = buf[i + 2]!;
    const d = buf[i + 3]!;
    const e = buf[i + 4]!;
    const f = buf[i + 5]!;
    const g = buf[i + 6]!;
    const h = buf[i + 7]!;
    if ((a | b | c | d | e | f | g | h) > 0x7f) return undefined;
    text += String.fromCharCode(a, b, c, d, e, f, g, h);
  }
  const rest = end - i;
  if (rest === 0) return text;
  // The rest, 1 to 7 bytes; the ones past `end` are not read and count as 0.
  const a = buf[i]!;
  const b = rest > 1 ? buf[i + 1]! : 0;
  const c = rest > 2 ? buf[i + 2]! : 0;
  const d = rest > 3 ? buf[i + 3]! : 0;
  const e = rest > 4 ? buf[i + 4]! : 0;
  const f = rest > 5 ? buf[i + 5]! : 0;
  const g = rest > 6 ? buf[i + 6]! : 0;
  if ((a | b | c | d | e | f | g) > 0x7f) return undefined;
  switch (rest) {
    case 1:
      return text + String.fromCharCode(a);
    case 2:
      return text + String.fromCharCode(a, b);
    case 3:
      return text + String.fromCharCode(a, b, c);
    case 4:
      return text + String.fromCharCode(a, b, c, d);
    case 5:
      return text + String.fromCharCode(a, b, c, d, e);
    case 6:
      return text + String.fromCharCode(a, b, c, d, e, f);
    default:
      return text + String.fromCharCode(a, b, c, d, e, f, g);
  }
}
