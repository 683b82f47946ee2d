import assert from "node:assert/strict";
import { test } from "node:test";
import { HpackDecoder, type HpackDecodeResult } from "./hpack-decoder.js";

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

function table(d: HpackDecoder): string[] {
  const out: string[] = [];
  for (let i = 1; i <= d.tableLength; i++) out.push(d.tableEntry(i)!.join(": "));
  return out;
}

function headersOf(result: HpackDecodeResult): Record<string, unknown> {
  assert.ok(result.ok, result.ok ? "" : result.message);
  return { ...result.headers };
}

// ---- RFC 7541 Appendix C.2: single representations ----

const singles: [string, string, Record<string, string>, string[]][] = [
  ["C.2.1 literal with indexing", "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572", { "custom-key": "custom-header" }, ["custom-key: custom-header"]],
  ["C.2.2 literal without indexing", "040c 2f73 616d 706c 652f 7061 7468", { ":path": "/sample/path" }, []],
  ["C.2.3 literal never indexed", "1008 7061 7373 776f 7264 0673 6563 7265 74", { password: "secret" }, []],
  ["C.2.4 indexed field", "82", { ":method": "GET" }, []],
];
for (const [name, block, want, wantTable] of singles) {
  test(`decodes RFC 7541 ${name}`, () => {
    const d = new HpackDecoder();
    assert.deepEqual(headersOf(d.decode(hex(block))), want);
    assert.deepEqual(table(d), wantTable);
  });
}

// ---- C.3 to C.6: sequences on one connection, with the table after each block ----

const request1 = { ":method": "GET", ":scheme": "http", ":path": "/", ":authority": "www.example.com" };
const request2 = { ...request1, "cache-control": "no-cache" };
const request3 = { ":method": "GET", ":scheme": "https", ":path": "/index.html", ":authority": "www.example.com", "custom-key": "custom-value" };
const requestTables = [
  [":authority: www.example.com"],
  ["cache-control: no-cache", ":authority: www.example.com"],
  ["custom-key: custom-value", "cache-control: no-cache", ":authority: www.example.com"],
];
const response1 = { ":status": "302", "cache-control": "private", date: "Mon, 21 Oct 2013 20:13:21 GMT", location: "https://www.example.com" };
const response2 = { ...response1, ":status": "307" };
const cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";
const response3 = { ":status": "200", "cache-control": "private", date: "Mon, 21 Oct 2013 20:13:22 GMT", location: "https://www.example.com", "content-encoding": "gzip", "set-cookie": [cookie] };
const responseTables = [
  ["location: https://www.example.com", "date: Mon, 21 Oct 2013 20:13:21 GMT", "cache-control: private", ":status: 302"],
  [":status: 307", "location: https://www.example.com", "date: Mon, 21 Oct 2013 20:13:21 GMT", "cache-control: private"],
  [`set-cookie: ${cookie}`, "content-encoding: gzip", "date: Mon, 21 Oct 2013 20:13:22 GMT"],
];

export const appendixC: { name: string; tableSize: number; blocks: string[]; headers: object[]; tables: string[][]; sizes: number[] }[] = [
  {
    name: "C.3 requests without Huffman coding",
    tableSize: 4096,
    blocks: [
      "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
      "8286 84be 5808 6e6f 2d63 6163 6865",
      "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
    ],
    headers: [request1, request2, request3], tables: requestTables, sizes: [57, 110, 164],
  },
  {
    name: "C.4 requests with Huffman coding",
    tableSize: 4096,
    blocks: [
      "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
      "8286 84be 5886 a8eb 1064 9cbf",
      "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
    ],
    headers: [request1, request2, request3], tables: requestTables, sizes: [57, 110, 164],
  },
  {
    name: "C.5 responses without Huffman coding, evicting from a 256-octet table",
    tableSize: 256,
    blocks: [
      `4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
       2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d`,
      "4803 3330 37c1 c0bf",
      `88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
       54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
       5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31`,
    ],
    headers: [response1, response2, response3], tables: responseTables, sizes: [222, 222, 215],
  },
  {
    name: "C.6 responses with Huffman coding, evicting from a 256-octet table",
    tableSize: 256,
    blocks: [
      `4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
       2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`,
      "4883 640e ffc1 c0bf",
      `88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
       77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
       9587 3160 65c0 03ed 4ee5 b106 3d50 07`,
    ],
    headers: [response1, response2, response3], tables: responseTables, sizes: [222, 222, 215],
  },
];

for (const example of appendixC) {
  test(`decodes RFC 7541 ${example.name}, with the dynamic table after each block`, () => {
    const d = new HpackDecoder({ maxTableSize: example.tableSize });
    example.blocks.forEach((block, i) => {
      assert.deepEqual(headersOf(d.decode(hex(block))), example.headers[i], `block ${i + 1}`);
      assert.deepEqual(table(d), example.tables[i], `table after block ${i + 1}`);
      assert.equal(d.tableSize, example.sizes[i], `table size after block ${i + 1}`);
    });
  });
}

// ---- errors: COMPRESSION_ERROR ----

const broken: [string, string][] = [
  ["an indexed field with index 0", "80"],
  ["an index past the static table with an empty dynamic table", "be"],
  ["a name index past the table", "7f00 0161"],
  ["a table size update above the allowed maximum", "3fe21f"], // 4097
  ["a table size update after a field", "82 20"],
  ["a truncated literal value", "4001 61 05 6162"],
  ["a truncated integer", "ff"],
  ["a Huffman value holding EOS", "4001 61 84 ffffffff"],
  ["a literal name truncated", "4005 6162"],
];
for (const [name, block] of broken) {
  test(`refuses a header block with ${name}`, () => {
    const result = new HpackDecoder().decode(hex(block));
    assert.equal(result.ok, false);
  });
}

test("accepts two table size updates at the start of a block and applies the last", () => {
  const d = new HpackDecoder();
  d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"));
  const result = d.decode(hex("20 3f e1 1f 82")); // 0, then 4096
  assert.deepEqual(headersOf(result), { ":method": "GET" });
  assert.equal(d.tableLength, 0);
});

// ---- header list size (SETTINGS_MAX_HEADER_LIST_SIZE) ----

test("a list over the limit is flagged, yet the block is decoded to the end so the table stays in step", () => {
  const d = new HpackDecoder({ maxHeaderListSize: 120 });
  // custom-key: custom-header (55 octets) indexed, then the same field by index three times.
  const result = d.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572 be be be 4001 61 0162"));
  assert.ok(result.ok);
  assert.equal(result.listTooLarge, true);
  assert.deepEqual(table(d), ["a: b", "custom-key: custom-header"]);
  assert.deepEqual({ ...result.headers }, { "custom-key": ["custom-header", "custom-header"] });
});

test("an HPACK bomb (one large entry referenced many times) stops at the list limit", () => {
  const d = new HpackDecoder({ maxHeaderListSize: 16 * 1024 });
  const value = "x".repeat(4000);
  // b: <4000 x> with incremental indexing (length 4000 = 127 + 3873 in the 7-bit prefix), then index 62 10,000 times.
  const rest = 4000 - 127;
  const prefix = Buffer.from([0x40, 0x01, 0x62, 0x7f, (rest & 0x7f) | 0x80, rest >> 7]);
  const block = Buffer.concat([prefix, Buffer.from(value), Buffer.alloc(10_000, 0xbe)]);
  const result = d.decode(block);
  assert.ok(result.ok);
  assert.equal(result.listTooLarge, true);
  const kept = result.headers.b;
  assert.ok(Array.isArray(kept) && kept.length <= 4, `kept ${Array.isArray(kept) ? kept.length : 1} copies`);
});

// ---- field rules of RFC 9113 §8.2 ----

const malformed: [string, string][] = [
  ["an upper-case name", "4001 41 0162"],
  ["a name with a space", "4003 6120 62 0162"],
  ["an empty name", "4000 0162"],
  ["a value with a NUL", "4001 61 0300 6262"],
  ["a value with CR LF", "4001 61 030d 0a62"],
  ["a pseudo-header after a regular header", "4001 61 0162 82"],
  ["a repeated pseudo-header", "82 83"],
];
for (const [name, block] of malformed) {
  test(`flags a block with ${name} as malformed but keeps the connection`, () => {
    const result = new HpackDecoder().decode(hex(block));
    assert.ok(result.ok);
    assert.notEqual(result.malformed, undefined);
  });
}

test("a malformed field indexed in the table is flagged again when referenced", () => {
  const d = new HpackDecoder();
  const first = d.decode(hex("4001 41 0162"));
  assert.ok(first.ok && first.malformed !== undefined);
  const again = d.decode(hex("be"));
  assert.ok(again.ok && again.malformed !== undefined);
});

test("repeated regular fields become arrays and cookies are joined with '; '", () => {
  const d = new HpackDecoder();
  // x: 1, x: 2, x: 3, cookie: a=1, cookie: b=2 (literals without indexing)
  const result = d.decode(hex("0001 78 0131 0001 78 0132 0001 78 0133 0f11 03 613d31 0f11 03 623d32"));
  assert.deepEqual(headersOf(result), { x: ["1", "2", "3"], cookie: "a=1; b=2" });
});

test("a header named __proto__ is an ordinary field", () => {
  const result = new HpackDecoder().decode(hex("0009 5f5f70726f746f5f5f 0178"));
  assert.ok(result.ok);
  assert.equal(Object.getPrototypeOf(result.headers), null);
  assert.equal(result.headers.__proto__, "x");
});

// ---- literals re-sent without indexing (nghttp2 sends :path and content-length so) ----

test("a literal repeated across blocks decodes the same, and one of equal length is not confused with it", () => {
  const d = new HpackDecoder();
  // C.2.2's literal :path without indexing, raw; then the same with one byte changed; then Huffman-coded.
  const path1 = hex("040c 2f73 616d 706c 652f 7061 7468"); // /sample/path
  const path2 = hex("040c 2f73 616d 706c 652f 7061 7469"); // /sample/pati
  const huffman = hex("018c f1e3 c2e5 f23a 6ba0 ab90 f4ff"); // :authority www.example.com, Huffman-coded (C.4.1)
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(headersOf(d.decode(path1)), { ":path": "/sample/path" });
    assert.deepEqual(headersOf(d.decode(path2)), { ":path": "/sample/pati" });
  }
  for (let i = 0; i < 12; i++) {
    assert.deepEqual(headersOf(d.decode(huffman)), { ":authority": "www.example.com" });
    assert.deepEqual(headersOf(d.decode(path1)), { ":path": "/sample/path" });
  }
  // Raw and Huffman literals with equal bytes mean different strings.
  const raw = hex("010c f1e3 c2e5 f23a 6ba0 ab90 f4ff");
  assert.equal(headersOf(d.decode(raw))[":authority"], Buffer.from("f1e3c2e5f23a6ba0ab90f4ff", "hex").toString("latin1"));
  assert.deepEqual(headersOf(d.decode(huffman)), { ":authority": "www.example.com" });
});
