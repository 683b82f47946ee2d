import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeGrpcMessage, encodeGrpcMessage } from "./grpc-message.js";

describe("encodeGrpcMessage", () => {
  const cases: [name: string, message: string, wire: string][] = [
    ["empty", "", ""],
    ["plain printable ASCII unchanged", "Hello, World! ~{}[]", "Hello, World! ~{}[]"],
    ["space and tilde (edges of 0x20-0x7E) unchanged", " ~", " ~"],
    ["percent", "100%", "100%25"],
    ["only a percent", "%", "%25"],
    ["something that already looks escaped", "%41", "%2541"],
    ["tab", "a\tb", "a%09b"],
    ["CR and LF", "line1\r\nline2", "line1%0D%0Aline2"],
    ["NUL", "\0", "%00"],
    ["unit separator 0x1F", "\x1f", "%1F"],
    ["DEL 0x7F", "\x7f", "%7F"],
    ["Latin-1 é as two UTF-8 bytes", "é", "%C3%A9"],
    ["BMP CJK", "世界", "%E4%B8%96%E7%95%8C"],
    ["non-BMP emoji as four UTF-8 bytes", "😈", "%F0%9F%98%88"],
    ["mixed", "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n",
      "%09%0Atest with whitespace%0D%0Aand Unicode BMP %E2%98%BA and non-BMP %F0%9F%98%88%09%0A"],
  ];
  for (const [name, message, wire] of cases) {
    test(`encodes ${name} as ${JSON.stringify(wire)}`, () => {
      assert.equal(encodeGrpcMessage(message), wire);
    });
  }

  test("writes escapes in uppercase hex", () => {
    const encoded = encodeGrpcMessage("\x0a\x0b\x0c\x0d\x0e\x0f\xfe\xff");
    assert.equal(encoded, "%0A%0B%0C%0D%0E%0F%C3%BE%C3%BF");
    assert.doesNotMatch(encoded, /%[0-9A-F]?[a-f]/);
  });

  test("leaves only 0x20-0x7E other than % unescaped on the wire", () => {
    let all = "";
    for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c);
    const encoded = encodeGrpcMessage(all);
    assert.match(encoded, /^[\x20-\x7e]*$/);
    const escapes = encoded.match(/%[0-9A-F]{2}/g) ?? [];
    // 0x00-0x1F, %, 0x7F: one byte each; 0x80-0xFF: two UTF-8 bytes each.
    assert.equal(escapes.length, 0x20 + 1 + 1 + 0x80 * 2);
  });
});

describe("decodeGrpcMessage", () => {
  const roundTrips: [name: string, message: string][] = [
    ["empty", ""],
    ["plain ASCII", "simple message"],
    ["percent signs", "%%25%"],
    ["tab, CR and LF", "\t\r\n"],
    ["all control characters", Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)).join("") + "\x7f"],
    ["BMP text", "Ünïcödé ☺ 世界 \uFFFD"],
    ["non-BMP text", "😈𝄞𠀀"],
    ["the interop special_status_message", "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n"],
  ];
  for (const [name, message] of roundTrips) {
    test(`round-trips ${name} byte-exact`, () => {
      const decoded = decodeGrpcMessage(encodeGrpcMessage(message));
      assert.equal(decoded, message);
      assert.deepEqual(new TextEncoder().encode(decoded), new TextEncoder().encode(message));
    });
  }

  const decodeCases: [name: string, wire: string, want: string][] = [
    ["text without escapes", "no escapes here", "no escapes here"],
    ["lowercase hex escapes (peers may send them)", "%c3%a9", "é"],
    ["escaped percent", "%25", "%"],
    ["a lone % at the end", "50%", "50%"],
    ["a lone % alone", "%", "%"],
    ["a truncated escape %4 at the end", "abc%4", "abc%4"],
    ["a truncated escape in the middle", "%4 ok", "%4 ok"],
    ["a non-hex escape %ZZ", "a%ZZb", "a%ZZb"],
    ["half a hex escape %4Z", "%4Z", "%4Z"],
    ["%% followed by a valid escape", "%%41", "%A"],
    ["valid and broken escapes mixed", "%41%%4%ZZ%42", "A%%4%ZZB"],
    ["raw non-ASCII text left as it is", "raw é 😈", "raw é 😈"],
    ["raw non-ASCII text next to an escape", "é%20😈", "é 😈"],
    ["raw non-BMP text next to a broken escape", "100% 😈𝄞", "100% 😈𝄞"],
  ];
  for (const [name, wire, want] of decodeCases) {
    test(`decodes ${name}: ${JSON.stringify(wire)} → ${JSON.stringify(want)}`, () => {
      assert.equal(decodeGrpcMessage(wire), want);
    });
  }

  const lonelyBytes: [name: string, wire: string][] = [
    ["a lone continuation byte", "before %80 after"],
    ["a lone 0xFF", "before %FF after"],
    ["a truncated 3-byte sequence", "before %E4%B8 after"],
    ["a lead byte followed by ASCII", "before %C3A after"],
  ];
  for (const [name, wire] of lonelyBytes) {
    test(`decodes invalid UTF-8 from ${name} without throwing and keeps the surrounding text`, () => {
      const decoded = decodeGrpcMessage(wire);
      assert.ok(decoded.startsWith("before "), decoded);
      assert.ok(decoded.endsWith(" after"), decoded);
      assert.ok(decoded.includes("\uFFFD"), `invalid bytes show as U+FFFD: ${JSON.stringify(decoded)}`);
    });
  }
});
