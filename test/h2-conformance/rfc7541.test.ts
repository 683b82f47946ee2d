/**
 * RFC 7541 (HPACK) conformance of the h2 server, played over a live connection: every
 * decoding error is a connection error of type COMPRESSION_ERROR, and the dynamic
 * table is shared across requests, sized by our SETTINGS_HEADER_TABLE_SIZE.
 * (The Appendix C examples are table tests beside the decoder, in src/protocol/http2.)
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { FrameFlag, FrameType, Http2ErrorCode } from "../../src/protocol/http2/constants.js";
import { describeOutcome, FrameClient, requestHeaders } from "./frame-client.js";
import { startFixtureServer, type FixtureServer } from "./server-fixture.js";

// :method POST, :scheme http, :authority localhost — then each case adds its :path field.
const prefix = [0x83, 0x86, 0x01, 0x09, ...Buffer.from("localhost")];

const broken: [string, string, number[]][] = [
  ["2.3.3", "an index past the end of both tables", [...prefix, 0xbe]],
  ["6.1", "an indexed field with index 0", [...prefix, 0x80]],
  ["6.3", "a table size update above SETTINGS_HEADER_TABLE_SIZE", [0x3f, 0xe2, 0x1f, ...prefix, 0x84]],
  ["4.2", "a table size update after the first field", [...prefix, 0x84, 0x20]],
  ["5.2", "a Huffman string holding EOS", [...prefix, 0x04, 0x84, 0xff, 0xff, 0xff, 0xff]],
  ["5.2", "Huffman padding longer than 7 bits", [...prefix, 0x04, 0x82, 0x1f, 0xff]],
  ["5.2", "Huffman padding that is not the EOS prefix", [...prefix, 0x04, 0x81, 0x18]],
  ["5.1", "an integer cut short", [...prefix, 0x7f]],
  ["5.2", "a string literal longer than the block", [...prefix, 0x04, 0x10, 0x2f]],
];

describe("RFC 7541 conformance of the h2 server", () => {
  let fixture: FixtureServer;
  before(async () => {
    fixture = await startFixtureServer();
  });
  after(() => fixture.close());

  for (const [section, name, block] of broken) {
    test(`§${section}: answers ${name} with GOAWAY COMPRESSION_ERROR`, async () => {
      const client = await FrameClient.connect(fixture.port);
      try {
        client.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, Uint8Array.from(block)));
        const outcome = await client.outcome();
        assert.ok(outcome.kind === "goaway" && outcome.code === Http2ErrorCode.COMPRESSION_ERROR, describeOutcome(outcome));
      } finally {
        client.close();
      }
    });
  }

  test("a prefix of valid fields decodes (the broken cases fail for their own reason)", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      client.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, Uint8Array.from([...prefix, 0x84])));
      const res = await client.response(1);
      assert.equal(res.headers[0]?.[":status"], "200");
    } finally {
      client.close();
    }
  });

  test("the dynamic table carries over between requests: a repeated request is a few bytes", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      const headers = requestHeaders("/", { "x-custom": "a value long enough to matter", "user-agent": "conformance/1.0" });
      const first = client.block(headers);
      const second = client.block(headers);
      assert.ok(second.length <= Object.keys(headers).length, `${second.length} bytes`);
      client.send((w) => w.headers(1, first, true, 16_384));
      assert.ok((await client.response(1)).ended);
      client.send((w) => w.headers(3, second, true, 16_384));
      const res = await client.response(3);
      assert.ok(res.ended);
      assert.equal(res.headers[0]?.[":status"], "200");
    } finally {
      client.close();
    }
  });

  test("a table size update to 0 evicts everything: a later reference to an old entry is a COMPRESSION_ERROR", async () => {
    const client = await FrameClient.connect(fixture.port);
    try {
      // A literal with incremental indexing puts x-a: b at index 62.
      const first = Uint8Array.from([...prefix, 0x84, 0x40, 0x03, ...Buffer.from("x-a"), 0x01, 0x62]);
      client.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 1, first));
      assert.ok((await client.response(1)).ended);
      // Size update to 0, back to 4096, then a reference to index 62.
      client.send((w) => w.raw(FrameType.HEADERS, FrameFlag.END_HEADERS | FrameFlag.END_STREAM, 3, Uint8Array.from([0x20, 0x3f, 0xe1, 0x1f, ...prefix, 0x84, 0xbe])));
      const outcome = await client.outcome();
      assert.ok(outcome.kind === "goaway" && outcome.code === Http2ErrorCode.COMPRESSION_ERROR, describeOutcome(outcome));
    } finally {
      client.close();
    }
  });
});
