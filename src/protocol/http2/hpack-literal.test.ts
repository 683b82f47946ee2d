import assert from "node:assert/strict";
import { test } from "node:test";
import { HpackInput, HpackOutput } from "./hpack-literal.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

// value, prefix bits, flags, encoding (RFC 7541 C.1 first three)
const integers: [number, number, number, string][] = [
  [10, 5, 0, "0a"], [1337, 5, 0, "1f9a0a"], [42, 8, 0, "2a"],
  [30, 5, 0, "1e"], [31, 5, 0, "1f00"], [127, 7, 0x80, "ff00"], [126, 7, 0x80, "fe"],
  [0, 4, 0x10, "10"], [15, 4, 0, "0f00"], [16, 4, 0, "0f01"], [2 ** 32 - 1, 5, 0x20, "3fe0ffffff0f"],
];
for (const [value, prefix, flags, encoded] of integers) {
  test(`integer ${value} with a ${prefix}-bit prefix encodes as ${encoded} and decodes back`, () => {
    const out = new HpackOutput();
    out.integer(value, prefix, flags);
    assert.equal(toHex(out.view()), encoded);
    const input = new HpackInput();
    input.reset(hex(encoded));
    assert.equal(input.integer(prefix), value);
    assert.equal(input.done, true);
  });
}

const badIntegers: [string, number, string][] = [
  ["truncated after the prefix", 5, "1f"],
  ["truncated mid continuation", 5, "1f9a"],
  ["empty", 7, ""],
  ["above 2^32-1", 5, "1fe1ffffff0f"],
  ["an endless run of continuation bytes", 5, "1f808080808080808080"],
];
for (const [name, prefix, encoded] of badIntegers) {
  test(`refuses an integer ${name}`, () => {
    const input = new HpackInput();
    input.reset(hex(encoded));
    assert.equal(input.integer(prefix), -1);
  });
}

test("a string literal is Huffman-coded only when that is shorter", () => {
  const out = new HpackOutput();
  out.string("www.example.com");
  assert.equal(toHex(out.view()), "8cf1e3c2e5f23a6ba0ab90f4ff");
  out.reset();
  out.string("\u0000\u0001"); // Huffman would take 36 bits
  assert.equal(toHex(out.view()), "020001");
  out.reset();
  out.string("www.example.com", false);
  assert.equal(toHex(out.view()), "0f7777772e6578616d706c652e636f6d");
});

test("reads raw and Huffman string literals and refuses truncated ones", () => {
  const input = new HpackInput();
  input.reset(hex("0f7777772e6578616d706c652e636f6d 8cf1e3c2e5f23a6ba0ab90f4ff"));
  assert.equal(input.string(), "www.example.com");
  assert.equal(input.string(), "www.example.com");
  assert.equal(input.done, true);
  input.reset(hex("0f7777"));
  assert.equal(input.string(), undefined);
  input.reset(hex("0f7777"));
  assert.equal(input.skipString(), false);
});

test("string bytes above 0x7f are read one character per byte (latin1)", () => {
  const input = new HpackInput();
  input.reset(hex("03 e9ff00"));
  assert.equal(input.string(), "\u00e9\u00ff\u0000");
});

test("the output grows past its initial size", () => {
  const out = new HpackOutput();
  const long = "x".repeat(5000);
  out.string(long, false);
  assert.equal(out.view().length, 5000 + 3);
});
