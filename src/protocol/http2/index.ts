/**
 * HTTP/2 wire format (RFC 9113) and HPACK (RFC 7541), pure: frames as values, an
 * incremental frame reader, a batching frame writer, header compression and the
 * message-level header rules. The public API of this folder, by name.
 */
export {
  FrameType, FrameFlag, SettingsId, Http2ErrorCode, http2ErrorName, frameHeaderLength, minMaxFrameSize,
  maxMaxFrameSize, maxWindowSize, defaultInitialWindowSize, defaultHeaderTableSize, maxStreamId, connectionPreface,
} from "./constants.js";
export {
  parseFrame, readFrameHeader, connectionError, streamError,
  type Frame, type FrameError, type FrameHeader, type FrameTypeName, type Priority, type Setting,
} from "./frame.js";
export { FrameReader } from "./frame-reader.js";
export { FrameWriter } from "./frame-writer.js";
export { HpackEncoder, type HeaderFields, type HpackEncoderOptions } from "./hpack-encoder.js";
export { HpackDecoder, type DecodedHeaders, type HpackDecodeResult, type HpackDecoderOptions } from "./hpack-decoder.js";
export { checkRequestHeaders, checkResponseHeaders, checkTrailers, parseContentLength } from "./header-rules.js";
