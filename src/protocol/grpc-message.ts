/**
 * grpc-message percent-encoding (PROTOCOL-HTTP2.md): UTF-8, then every byte outside
 * 0x20–0x7E, and "%" itself, as %XX. Pure: no node: imports. Decoding never fails:
 * broken escapes pass through as they are.
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

export function encodeGrpcMessage(message: string): string {
  let plain = true;
  for (let i = 0; i < message.length; i++) {
    const c = message.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) { plain = false; break; }
  }
  if (plain) return message;
  let out = "";
  for (const byte of encoder.encode(message)) {
    if (byte >= 0x20 && byte <= 0x7e && byte !== 0x25) out += String.fromCharCode(byte);
    else out += "%" + (byte < 16 ? "0" : "") + byte.toString(16).toUpperCase();
  }
  return out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export function decodeGrpcMessage(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length) {
      const hi = hexValue(value.charCodeAt(i + 1));
      const lo = hexValue(value.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        bytes.push((hi << 4) | lo);
        i += 2;
        continue;
      }
    }
    if (c < 0x80) bytes.push(c);
    else {
      // Whole code point: a surrogate pair encoded half by half would become two U+FFFD.
      const char = String.fromCodePoint(value.codePointAt(i)!);
      for (const b of encoder.encode(char)) bytes.push(b);
      i += char.length - 1;
    }
  }
  return decoder.decode(new Uint8Array(bytes));
}
