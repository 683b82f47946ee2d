import assert from "node:assert/strict";
import { test } from "node:test";
import { checkRequestHeaders, checkResponseHeaders, checkTrailers, parseContentLength } from "./header-rules.js";
import { HpackDecoder, type DecodedHeaders } from "./hpack-decoder.js";
import { HpackEncoder } from "./hpack-encoder.js";

const request: DecodedHeaders = { ":method": "POST", ":scheme": "http", ":path": "/a.B/C", ":authority": "h", te: "trailers" };

const requestCases: [string, DecodedHeaders, boolean][] = [
  ["a complete gRPC request", request, true],
  ["a request without :authority", { ":method": "GET", ":scheme": "https", ":path": "/" }, true],
  ["a request without :method", { ":scheme": "http", ":path": "/" }, false],
  ["a request without :scheme", { ":method": "GET", ":path": "/" }, false],
  ["a request without :path", { ":method": "GET", ":scheme": "http" }, false],
  ["a request with an empty :path", { ":method": "GET", ":scheme": "http", ":path": "" }, false],
  ["a request with :status", { ...request, ":status": "200" }, false],
  ["a request with an unknown pseudo-header", { ...request, ":foo": "x" }, false],
  ["a request with a connection header", { ...request, connection: "keep-alive" }, false],
  ["a request with keep-alive", { ...request, "keep-alive": "1" }, false],
  ["a request with proxy-connection", { ...request, "proxy-connection": "1" }, false],
  ["a request with transfer-encoding", { ...request, "transfer-encoding": "chunked" }, false],
  ["a request with upgrade", { ...request, upgrade: "h2c" }, false],
  ["a request with te: gzip", { ...request, te: "gzip" }, false],
  ["a CONNECT request with :authority only", { ":method": "CONNECT", ":authority": "h:443" }, true],
  ["a CONNECT request with :path", { ":method": "CONNECT", ":authority": "h:443", ":path": "/" }, false],
];
for (const [name, headers, ok] of requestCases) {
  test(`${ok ? "accepts" : "refuses"} ${name}`, () => {
    assert.equal(checkRequestHeaders(headers) === undefined, ok, checkRequestHeaders(headers));
  });
  test(`${ok ? "accepts" : "refuses"} ${name}, with the decoder's pseudo-header bits`, () => {
    const decoded = new HpackDecoder().decode(new HpackEncoder().encode(headers));
    assert.ok(decoded.ok);
    assert.equal(checkRequestHeaders(decoded.headers, decoded.pseudoHeaders), checkRequestHeaders(headers));
  });
}

const responseCases: [string, DecodedHeaders, boolean][] = [
  ["a response with :status 200", { ":status": "200", "content-type": "application/grpc" }, true],
  ["an informational response", { ":status": "100" }, true],
  ["a response without :status", { "content-type": "application/grpc" }, false],
  ["a response with :status 20", { ":status": "20" }, false],
  ["a response with :path", { ":status": "200", ":path": "/" }, false],
  ["a response with a connection header", { ":status": "200", connection: "close" }, false],
];
for (const [name, headers, ok] of responseCases) {
  test(`${ok ? "accepts" : "refuses"} ${name}`, () => {
    assert.equal(checkResponseHeaders(headers) === undefined, ok);
  });
}

test("trailers may not carry pseudo-headers", () => {
  assert.equal(checkTrailers({ "grpc-status": "0" }), undefined);
  assert.notEqual(checkTrailers({ "grpc-status": "0", ":status": "200" }), undefined);
});

const lengths: [DecodedHeaders, number | undefined | "NaN"][] = [
  [{}, undefined], [{ "content-length": "0" }, 0], [{ "content-length": "12" }, 12],
  [{ "content-length": ["5", "5"] }, 5], [{ "content-length": "5, 5" }, 5],
  [{ "content-length": ["5", "6"] }, "NaN"], [{ "content-length": "-1" }, "NaN"], [{ "content-length": "1e3" }, "NaN"],
  [{ "content-length": "" }, "NaN"], [{ "content-length": " 7" }, 7], [{ "content-length": "1032" }, 1032],
  [{ "content-length": "999999999999999" }, 999999999999999], [{ "content-length": "1000000000000000" }, "NaN"],
];
for (const [headers, want] of lengths) {
  test(`content-length ${JSON.stringify(headers["content-length"])} parses to ${want}`, () => {
    const got = parseContentLength(headers);
    assert.equal(Number.isNaN(got) ? "NaN" : got, want);
  });
}
