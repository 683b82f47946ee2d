import assert from "node:assert/strict";
import { test } from "node:test";
import { huffmanCode, huffmanCodeLength, huffmanDecode, huffmanEncode, huffmanEncodedLength } from "./hpack-huffman.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// Rows of RFC 7541 Appendix B: symbol, code, length.
const rows: [number, number, number][] = [
  [0, 0x1ff8, 13], [1, 0x7fffd8, 23], [9, 0xffffea, 24], [10, 0x3ffffffc, 30], [32, 0x14, 6],
  [48, 0x0, 5], [97, 0x3, 5], [122, 0x7b, 7], [127, 0xffffffc, 28], [200, 0x3ffffe2, 26],
  [255, 0x3ffffee, 26], [256, 0x3fffffff, 30],
];
for (const [sym, code, length] of rows) {
  test(`Huffman code of symbol ${sym} is ${code.toString(16)} in ${length} bits, as Appendix B lists`, () => {
    assert.equal(huffmanCode[sym], code);
    assert.equal(huffmanCodeLength[sym], length);
  });
}

// Strings of RFC 7541 Appendix C.4 and C.6 and their Huffman encodings.
const strings: [string, string][] = [
  ["www.example.com", "f1e3 c2e5 f23a 6ba0 ab90 f4ff"],
  ["no-cache", "a8eb 1064 9cbf"],
  ["custom-key", "25a8 49e9 5ba9 7d7f"],
  ["custom-value", "25a8 49e9 5bb8 e8b4 bf"],
  ["302", "6402"],
  ["private", "aec3 771a 4b"],
  ["Mon, 21 Oct 2013 20:13:21 GMT", "d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff"],
  ["https://www.example.com", "9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3"],
  ["gzip", "9bd9 ab"],
  ["foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1",
    "94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07"],
  ["", ""],
];
for (const [s, encoded] of strings) {
  test(`Huffman-encodes ${JSON.stringify(s)} as in Appendix C and decodes it back`, () => {
    const out = new Uint8Array(huffmanEncodedLength(s));
    assert.equal(huffmanEncode(s, out, 0), out.length);
    assert.equal(toHex(out), encoded.replace(/\s+/g, ""));
    assert.equal(huffmanDecode(hex(encoded)), s);
  });
}

test("every byte value survives a Huffman round trip", () => {
  const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  for (const s of [all, all.split("").reverse().join(""), "\u00ff\u0000\u00ff"]) {
    const out = new Uint8Array(huffmanEncodedLength(s));
    huffmanEncode(s, out, 0);
    assert.equal(huffmanDecode(out), s);
  }
});

const invalid: [string, string][] = [
  ["the EOS symbol inside the string", "ff ff ff ff"],
  ["padding of 8 one-bits", "1f ff"], // 'a' (00011) + 3 ones fills the byte; then a whole byte of ones
  ["padding that is not all ones", "18"], // 'a' then 000
  ["a truncated long code", "ff fe"],
];
for (const [name, bytes] of invalid) {
  test(`refuses a Huffman string with ${name}`, () => {
    assert.equal(huffmanDecode(hex(bytes)), undefined);
  });
}

test("accepts padding of up to 7 one-bits", () => {
  assert.equal(huffmanDecode(hex("1f")), "a"); // 00011 + 3 padding bits
  assert.equal(huffmanDecode(hex("007f")), "01"); // 00000 00001 + 6 padding bits
  assert.equal(huffmanDecode(hex("003dff")), "00z"); // 00000 00000 1111011 + 7 padding bits
});
