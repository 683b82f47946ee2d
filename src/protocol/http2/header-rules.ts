/**
 * HTTP/2 message rules on decoded header blocks (RFC 9113 §8.1–§8.3): which
 * pseudo-headers a request, a response and trailers may and must carry, and the
 * connection-specific fields HTTP/2 forbids. Each check returns why the message is
 * malformed, or undefined; a malformed message is a stream error of type
 * PROTOCOL_ERROR. Field syntax is checked by the HPACK decoder. Pure: no node: imports.
 */
import { pseudoHeaderBits, type DecodedHeaders } from "./hpack-decoder.js";

const requestPseudoHeaders = pseudoHeaderBits.method | pseudoHeaderBits.scheme | pseudoHeaderBits.authority | pseudoHeaderBits.path;

/** Fields that only mean something to an HTTP/1.1 connection (RFC 9113 §8.2.2). */
const connectionSpecific = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

function checkRegularFields(headers: DecodedHeaders): string | undefined {
  for (const name of connectionSpecific) {
    if (headers[name] !== undefined) return `connection-specific header ${name}`;
  }
  const te = headers.te;
  if (te !== undefined && te !== "trailers") return `te header ${JSON.stringify(te)}, only "trailers" is allowed`;
  return undefined;
}

/**
 * A request's header block (RFC 9113 §8.3.1). With the decoder's `pseudoHeaders` bits
 * a valid block is checked without walking its fields.
 */
export function checkRequestHeaders(headers: DecodedHeaders, pseudoHeaders?: number): string | undefined {
  if (pseudoHeaders === undefined || (pseudoHeaders & ~requestPseudoHeaders) !== 0) return checkRequestPseudoHeaders(headers);
  return checkRequestFields(headers);
}

function checkRequestPseudoHeaders(headers: DecodedHeaders): string | undefined {
  for (const name in headers) {
    if (name.charCodeAt(0) !== 0x3a) continue;
    if (name !== ":method" && name !== ":scheme" && name !== ":authority" && name !== ":path") {
      return `pseudo-header ${name} is not allowed in a request`;
    }
  }
  return checkRequestFields(headers);
}

function checkRequestFields(headers: DecodedHeaders): string | undefined {
  const method = headers[":method"];
  if (method === undefined || method === "") return "request without :method";
  if (method === "CONNECT") {
    if (headers[":scheme"] !== undefined || headers[":path"] !== undefined) return "CONNECT request with :scheme or :path";
    if (headers[":authority"] === undefined) return "CONNECT request without :authority";
  } else {
    const scheme = headers[":scheme"];
    if (scheme === undefined || scheme === "") return "request without :scheme";
    const path = headers[":path"];
    if (path === undefined || path === "") return "request without :path";
  }
  return checkRegularFields(headers);
}

/** A response's header block, informational (1xx) or final (RFC 9113 §8.3.2). */
export function checkResponseHeaders(headers: DecodedHeaders): string | undefined {
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a && name !== ":status") return `pseudo-header ${name} is not allowed in a response`;
  }
  const status = headers[":status"];
  if (typeof status !== "string" || !/^[1-9][0-9][0-9]$/.test(status)) return `response with :status ${JSON.stringify(status)}`;
  return checkRegularFields(headers);
}

/** A trailer block: no pseudo-headers at all (RFC 9113 §8.1). */
export function checkTrailers(headers: DecodedHeaders): string | undefined {
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a) return `pseudo-header ${name} in trailers`;
  }
  return checkRegularFields(headers);
}

/**
 * The content-length header as a number: undefined when absent, NaN when it is not
 * one non-negative integer (repeated values must agree, RFC 9110 §8.6).
 */
export function parseContentLength(headers: DecodedHeaders): number | undefined {
  const raw = headers["content-length"];
  if (raw === undefined) return undefined;
  if (typeof raw === "string" && raw.length > 0 && raw.length <= 15) {
    // The usual case, one plain number, without splitting.
    let n = 0;
    for (let i = 0; i < raw.length; i++) {
      const d = raw.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) return parseContentLengthList([raw]);
      n = n * 10 + d;
    }
    return n;
  }
  return parseContentLengthList(typeof raw === "string" ? [raw] : raw);
}

function parseContentLengthList(raw: readonly string[]): number {
  const values = raw.flatMap((v) => v.split(","));
  let result = NaN;
  for (const v of values) {
    const trimmed = v.trim();
    if (!/^[0-9]{1,15}$/.test(trimmed)) return NaN;
    const n = Number(trimmed);
    if (!Number.isNaN(result) && n !== result) return NaN;
    result = n;
  }
  return result;
}
