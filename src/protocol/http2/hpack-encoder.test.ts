import assert from "node:assert/strict";
import { test } from "node:test";
import { HpackDecoder } from "./hpack-decoder.js";
import { HpackEncoder, type HeaderFields } from "./hpack-encoder.js";

const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const strip = (s: string) => s.replace(/\s+/g, "");

const requests: HeaderFields[] = [
  { ":method": "GET", ":scheme": "http", ":path": "/", ":authority": "www.example.com" },
  { ":method": "GET", ":scheme": "http", ":path": "/", ":authority": "www.example.com", "cache-control": "no-cache" },
  { ":method": "GET", ":scheme": "https", ":path": "/index.html", ":authority": "www.example.com", "custom-key": "custom-value" },
];

test("encodes the RFC 7541 C.3 requests byte for byte without Huffman coding", () => {
  const e = new HpackEncoder({ huffman: false });
  const want = [
    "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
    "8286 84be 5808 6e6f 2d63 6163 6865",
    "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
  ];
  requests.forEach((headers, i) => assert.equal(toHex(e.encode(headers)), strip(want[i]!), `request ${i + 1}`));
  assert.equal(e.tableSize, 164);
});

test("encodes the RFC 7541 C.4 requests byte for byte with Huffman coding", () => {
  const e = new HpackEncoder();
  const want = [
    "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
    "8286 84be 5886 a8eb 1064 9cbf",
    "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
  ];
  requests.forEach((headers, i) => assert.equal(toHex(e.encode(headers)), strip(want[i]!), `request ${i + 1}`));
});

const grpcRequest: HeaderFields = {
  ":method": "POST", ":scheme": "http", ":path": "/grpc.testing.Echo/Unary", ":authority": "127.0.0.1:50051",
  "content-type": "application/grpc", te: "trailers", "user-agent": "grpc-ts/0.1.0", "grpc-accept-encoding": "identity,gzip,deflate",
  "x-request-id": "abc",
};

test("a repeated gRPC request header block costs one byte per field", () => {
  const e = new HpackEncoder();
  const first = e.encode(grpcRequest).length;
  const second = e.encode(grpcRequest).length;
  assert.ok(first > 60, `first block ${first} bytes`);
  assert.equal(second, Object.keys(grpcRequest).length);
});

test("a changing grpc-timeout is sent without indexing so it does not churn the table", () => {
  const e = new HpackEncoder();
  e.encode({ ...grpcRequest, "grpc-timeout": "100m" });
  const size = e.tableSize;
  const block = e.encode({ ...grpcRequest, "grpc-timeout": "99m" });
  assert.equal(e.tableSize, size);
  assert.ok(block.length <= Object.keys(grpcRequest).length + 6, `${block.length} bytes`);
});

for (const name of ["authorization", "proxy-authorization", "cookie", "x-api-key"]) {
  test(`never indexes the value of ${name}`, () => {
    const e = new HpackEncoder({ sensitiveHeaders: ["x-api-key"] });
    const block = e.encode({ [name]: "Bearer secret-token" });
    assert.equal(block[0]! & 0xf0, 0x10, "literal never indexed");
    assert.equal(e.tableSize, 0);
    const again = e.encode({ [name]: "Bearer secret-token" });
    assert.equal(again[0]! & 0xf0, 0x10);
    const d = new HpackDecoder();
    const decoded = d.decode(block);
    assert.ok(decoded.ok);
    assert.equal(decoded.headers[name], "Bearer secret-token");
    assert.equal(d.tableSize, 0);
  });
}

test("pseudo-headers are encoded first whatever the key order", () => {
  const e = new HpackEncoder();
  const block = e.encode({ "grpc-status": "0", ":status": "200", "content-type": "application/grpc" });
  assert.equal(block[0], 0x88); // :status 200, static index 8
  const d = new HpackDecoder();
  const decoded = d.decode(block);
  assert.ok(decoded.ok);
  assert.equal(decoded.malformed, undefined);
});

test("a peer's smaller table size is signalled at the start of the next block, smallest first", () => {
  const e = new HpackEncoder();
  e.encode({ "x-a": "1" });
  e.setPeerMaxTableSize(0);
  e.setPeerMaxTableSize(2048);
  const block = e.encode({ "x-a": "1" });
  // 0x20 = size 0, then 0x3f e1 0f = 2048, then the field as a new literal (the table was emptied).
  assert.equal(toHex(block.subarray(0, 4)), "203fe10f");
  const d = new HpackDecoder();
  d.decode(new HpackEncoder().encode({ "x-a": "1" }));
  const decoded = d.decode(block);
  assert.ok(decoded.ok, decoded.ok ? "" : decoded.message);
  assert.deepEqual({ ...decoded.headers }, { "x-a": "1" });
});

test("never uses a larger table than its own limit, whatever the peer allows", () => {
  const e = new HpackEncoder({ maxTableSize: 256 });
  e.setPeerMaxTableSize(1 << 20);
  for (let i = 0; i < 50; i++) e.encode({ [`x-key-${i}`]: "value" });
  assert.ok(e.tableSize <= 256);
});

test("whatever it encodes, a decoder sharing its history decodes back", () => {
  const e = new HpackEncoder({ maxTableSize: 512 });
  const d = new HpackDecoder({ maxTableSize: 512 });
  e.setPeerMaxTableSize(512);
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let round = 0; round < 200; round++) {
    const headers: Record<string, string | string[]> = { ":status": String(200 + rand(300)) };
    for (let i = rand(8); i > 0; i--) {
      const name = `x-${rand(20)}`;
      const value = String.fromCharCode(...Array.from({ length: rand(40) }, () => 0x20 + rand(95)));
      headers[name] = name in headers ? [String(headers[name]), value] : value;
    }
    const decoded = d.decode(e.encode(headers));
    assert.ok(decoded.ok);
    assert.deepEqual({ ...decoded.headers }, headers, `round ${round}`);
  }
});
