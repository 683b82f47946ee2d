import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeBase64, encodeBase64 } from "./base64.js";

const ascii = (text: string) => new TextEncoder().encode(text);

// RFC 4648 §10 test vectors, plus bytes that use the last two alphabet characters.
const vectors: [bytes: Uint8Array, padded: string, unpadded: string][] = [
  [ascii(""), "", ""],
  [ascii("f"), "Zg==", "Zg"],
  [ascii("fo"), "Zm8=", "Zm8"],
  [ascii("foo"), "Zm9v", "Zm9v"],
  [ascii("foob"), "Zm9vYg==", "Zm9vYg"],
  [ascii("fooba"), "Zm9vYmE=", "Zm9vYmE"],
  [ascii("foobar"), "Zm9vYmFy", "Zm9vYmFy"],
  [Uint8Array.of(0xfb, 0xff), "+/8=", "+/8"],
  [Uint8Array.of(0xff, 0xff, 0xff), "////", "////"],
  [Uint8Array.of(0, 0, 0), "AAAA", "AAAA"],
];

describe("encodeBase64", () => {
  for (const [bytes, padded, unpadded] of vectors) {
    test(`encodes ${bytes.length} bytes as ${JSON.stringify(padded)} padded and ${JSON.stringify(unpadded)} unpadded`, () => {
      assert.equal(encodeBase64(bytes), padded);
      assert.equal(encodeBase64(bytes, true), padded);
      assert.equal(encodeBase64(bytes, false), unpadded);
    });
  }

  test("matches node's Buffer encoding for every byte value", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.equal(encodeBase64(all), Buffer.from(all).toString("base64"));
  });
});

describe("decodeBase64", () => {
  for (const [bytes, padded, unpadded] of vectors) {
    test(`decodes ${JSON.stringify(padded)} and ${JSON.stringify(unpadded)} to ${bytes.length} bytes`, () => {
      assert.deepEqual(decodeBase64(padded), bytes);
      assert.deepEqual(decodeBase64(unpadded), bytes);
    });
  }

  const urlSafe: [text: string, want: number[]][] = [
    ["-_8=", [0xfb, 0xff]],
    ["-_8", [0xfb, 0xff]],
    ["____", [0xff, 0xff, 0xff]],
    ["+_-/", [0xfb, 0xff, 0xbf]],
  ];
  for (const [text, want] of urlSafe) {
    test(`decodes the URL-safe alphabet: ${JSON.stringify(text)}`, () => {
      assert.deepEqual(decodeBase64(text), Uint8Array.from(want));
    });
  }

  const invalid: [name: string, text: string][] = [
    ["one character", "Z"],
    ["five characters", "Zm9vY"],
    ["one character with padding", "Z==="],
    ["three padding characters", "Zg==="],
    ["padding in the middle", "Zg==Zg=="],
    ["a space", "Zm9v Yg"],
    ["a newline", "Zm9v\nYg"],
    ["a non-alphabet ASCII character", "Zm9*"],
    ["a dot", "Zm.v"],
    ["a non-ASCII character", "Zm9é"],
    ["a character whose code is ≥ 128 and maps into the table when truncated", "Zm9\u0141"],
  ];
  for (const [name, text] of invalid) {
    test(`returns undefined for ${name}: ${JSON.stringify(text)}`, () => {
      assert.equal(decodeBase64(text), undefined);
    });
  }

  for (let length = 0; length <= 20; length++) {
    test(`round-trips ${length} bytes padded, unpadded and URL-safe`, () => {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + 250) & 0xff);
      const padded = encodeBase64(bytes);
      const unpadded = encodeBase64(bytes, false);
      assert.equal(padded.length % 4, 0);
      assert.equal(unpadded, padded.replace(/=+$/, ""));
      assert.equal(padded, Buffer.from(bytes).toString("base64"));
      assert.deepEqual(decodeBase64(padded), bytes);
      assert.deepEqual(decodeBase64(unpadded), bytes);
      assert.deepEqual(decodeBase64(padded.replaceAll("+", "-").replaceAll("/", "_")), bytes);
    });
  }
});
