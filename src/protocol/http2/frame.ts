/**
 * HTTP/2 frames as values (RFC 9113 §4, §6): one discriminated union, and the parser
 * that turns a frame header and payload into it, checking every per-frame-type rule
 * that needs no connection state (lengths, padding, stream id zero or not, setting
 * ranges). Errors are values that name their scope. Pure: no node: imports.
 */
import { FrameFlag, FrameType, Http2ErrorCode, SettingsId, maxMaxFrameSize, maxWindowSize, minMaxFrameSize } from "./constants.js";

/** Stream priority fields of HEADERS and PRIORITY; accepted and ignored (RFC 9113 §5.3.2). */
export interface Priority {
  readonly dependency: number;
  readonly exclusive: boolean;
  /** 1..256 (the wire byte plus one). */
  readonly weight: number;
}

export interface Setting {
  readonly id: number;
  readonly value: number;
}

export type Frame =
  | {
      type: "DATA"; streamId: number; endStream: boolean; data: Uint8Array;
      /** The whole payload length, padding included: what flow control counts (RFC 9113 §6.9). */
      flowControlledLength: number;
    }
  | { type: "HEADERS"; streamId: number; endStream: boolean; endHeaders: boolean; priority: Priority | undefined; fragment: Uint8Array }
  | { type: "PRIORITY"; streamId: number; priority: Priority }
  | { type: "RST_STREAM"; streamId: number; errorCode: number }
  | { type: "SETTINGS"; ack: boolean; settings: readonly Setting[] }
  | { type: "PUSH_PROMISE"; streamId: number; endHeaders: boolean; promisedStreamId: number; fragment: Uint8Array }
  | { type: "PING"; ack: boolean; opaqueData: Uint8Array }
  | { type: "GOAWAY"; lastStreamId: number; errorCode: number; debugData: Uint8Array }
  | { type: "WINDOW_UPDATE"; streamId: number; increment: number }
  | { type: "CONTINUATION"; streamId: number; endHeaders: boolean; fragment: Uint8Array }
  /** Extension frame types are ignored (RFC 9113 §5.5), except inside a header block. */
  | { type: "UNKNOWN"; frameType: number; flags: number; streamId: number; payload: Uint8Array };

export type FrameTypeName = Frame["type"];

/**
 * A frame that breaks a rule. "connection" errors end the connection with GOAWAY;
 * "stream" errors reset only `streamId` with RST_STREAM (RFC 9113 §5.4).
 */
export interface FrameError {
  type: "error";
  scope: "connection" | "stream";
  code: number;
  streamId: number;
  message: string;
}

export function connectionError(code: number, message: string): FrameError {
  return { type: "error", scope: "connection", code, streamId: 0, message };
}

export function streamError(streamId: number, code: number, message: string): FrameError {
  return { type: "error", scope: "stream", code, streamId, message };
}

/** The 9-byte frame header's fields. */
export interface FrameHeader {
  length: number;
  type: number;
  flags: number;
  streamId: number;
}

/** Reads a frame header at `offset` (9 bytes must be there). The reserved bit is ignored. */
export function readFrameHeader(bytes: Uint8Array, offset: number): FrameHeader {
  return {
    length: (bytes[offset]! << 16) | (bytes[offset + 1]! << 8) | bytes[offset + 2]!,
    type: bytes[offset + 3]!,
    flags: bytes[offset + 4]!,
    streamId: readUint31(bytes, offset + 5),
  };
}

function readUint31(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! & 0x7f) * 0x1000000) + ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!);
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! * 0x1000000) + ((bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!);
}

/**
 * Removes padding (RFC 9113 §6.1): the first byte is the pad length, which must be
 * less than what follows it. Returns the unpadded start and end, or an error.
 */
function unpad(payload: Uint8Array, flags: number, start: number, what: string): { start: number; end: number } | FrameError {
  if ((flags & FrameFlag.PADDED) === 0) return { start, end: payload.length };
  if (payload.length < start + 1) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, `${what} frame too short for its pad length`);
  const padLength = payload[start]!;
  if (padLength >= payload.length - start) {
    return connectionError(Http2ErrorCode.PROTOCOL_ERROR, `${what} pad length ${padLength} is not less than the ${payload.length - start} bytes that follow the pad length byte`);
  }
  return { start: start + 1, end: payload.length - padLength };
}

function readPriority(payload: Uint8Array, offset: number): Priority {
  return {
    dependency: readUint31(payload, offset),
    exclusive: (payload[offset]! & 0x80) !== 0,
    weight: payload[offset + 4]! + 1,
  };
}

/**
 * Parses one frame whose header is already read and whose payload is complete.
 * `payload` is not copied: fields such as DATA's `data` are views into it.
 */
export function parseFrame(header: FrameHeader, payload: Uint8Array): Frame | FrameError {
  const { type, flags, streamId } = header;
  const length = payload.length;
  switch (type) {
    case FrameType.DATA: {
      if (streamId === 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, "DATA frame on stream 0");
      const body = unpad(payload, flags, 0, "DATA");
      if ("type" in body) return body;
      return {
        type: "DATA",
        streamId,
        endStream: (flags & FrameFlag.END_STREAM) !== 0,
        data: body.start === 0 && body.end === length ? payload : payload.subarray(body.start, body.end),
        flowControlledLength: length,
      };
    }
    case FrameType.HEADERS: {
      if (streamId === 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, "HEADERS frame on stream 0");
      const hasPriority = (flags & FrameFlag.PRIORITY) !== 0;
      const padBytes = (flags & FrameFlag.PADDED) !== 0 ? 1 : 0;
      if (hasPriority && length < padBytes + 5) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, "HEADERS frame too short for its priority fields");
      const body = unpad(payload, flags, 0, "HEADERS");
      if ("type" in body) return body;
      let start = body.start;
      let priority: Priority | undefined;
      if (hasPriority) {
        if (body.end - start < 5) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, "HEADERS padding overlaps its priority fields");
        priority = readPriority(payload, start);
        start += 5;
      }
      return {
        type: "HEADERS",
        streamId,
        endStream: (flags & FrameFlag.END_STREAM) !== 0,
        endHeaders: (flags & FrameFlag.END_HEADERS) !== 0,
        priority,
        fragment: payload.subarray(start, body.end),
      };
    }
    case FrameType.PRIORITY: {
      if (streamId === 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, "PRIORITY frame on stream 0");
      if (length !== 5) return streamError(streamId, Http2ErrorCode.FRAME_SIZE_ERROR, `PRIORITY frame of ${length} bytes, must be 5`);
      const priority = readPriority(payload, 0);
      if (priority.dependency === streamId) return streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, `stream ${streamId} cannot depend on itself`);
      return { type: "PRIORITY", streamId, priority };
    }
    case FrameType.RST_STREAM: {
      if (streamId === 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, "RST_STREAM frame on stream 0");
      if (length !== 4) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, `RST_STREAM frame of ${length} bytes, must be 4`);
      return { type: "RST_STREAM", streamId, errorCode: readUint32(payload, 0) };
    }
    case FrameType.SETTINGS: {
      if (streamId !== 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, `SETTINGS frame on stream ${streamId}`);
      const ack = (flags & FrameFlag.ACK) !== 0;
      if (ack) {
        if (length !== 0) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, `SETTINGS ACK with a ${length}-byte payload`);
        return { type: "SETTINGS", ack: true, settings: [] };
      }
      if (length % 6 !== 0) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, `SETTINGS frame of ${length} bytes, not a multiple of 6`);
      const settings: Setting[] = [];
      for (let offset = 0; offset < length; offset += 6) {
        const id = (payload[offset]! << 8) | payload[offset + 1]!;
        const value = readUint32(payload, offset + 2);
        const invalid = checkSetting(id, value);
        if (invalid !== undefined) return invalid;
        settings.push({ id, value });
      }
      return { type: "SETTINGS", ack: false, settings };
    }
    case FrameType.PUSH_PROMISE: {
      if (streamId === 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE frame on stream 0");
      const body = unpad(payload, flags, 0, "PUSH_PROMISE");
      if ("type" in body) return body;
      if (body.end - body.start < 4) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, "PUSH_PROMISE frame too short for its promised stream id");
      return {
        type: "PUSH_PROMISE",
        streamId,
        endHeaders: (flags & FrameFlag.END_HEADERS) !== 0,
        promisedStreamId: readUint31(payload, body.start),
        fragment: payload.subarray(body.start + 4, body.end),
      };
    }
    case FrameType.PING: {
      if (streamId !== 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, `PING frame on stream ${streamId}`);
      if (length !== 8) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, `PING frame of ${length} bytes, must be 8`);
      return { type: "PING", ack: (flags & FrameFlag.ACK) !== 0, opaqueData: payload };
    }
    case FrameType.GOAWAY: {
      if (streamId !== 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, `GOAWAY frame on stream ${streamId}`);
      if (length < 8) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, `GOAWAY frame of ${length} bytes, must be at least 8`);
      return { type: "GOAWAY", lastStreamId: readUint31(payload, 0), errorCode: readUint32(payload, 4), debugData: payload.subarray(8) };
    }
    case FrameType.WINDOW_UPDATE: {
      if (length !== 4) return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, `WINDOW_UPDATE frame of ${length} bytes, must be 4`);
      const increment = readUint31(payload, 0);
      if (increment === 0) {
        return streamId === 0
          ? connectionError(Http2ErrorCode.PROTOCOL_ERROR, "WINDOW_UPDATE with an increment of 0 on the connection")
          : streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE with an increment of 0 on stream ${streamId}`);
      }
      return { type: "WINDOW_UPDATE", streamId, increment };
    }
    case FrameType.CONTINUATION: {
      if (streamId === 0) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, "CONTINUATION frame on stream 0");
      return { type: "CONTINUATION", streamId, endHeaders: (flags & FrameFlag.END_HEADERS) !== 0, fragment: payload };
    }
    default:
      return { type: "UNKNOWN", frameType: type, flags, streamId, payload };
  }
}

/** Range checks of RFC 9113 §6.5.2; unknown identifiers are ignored by the caller. */
function checkSetting(id: number, value: number): FrameError | undefined {
  switch (id) {
    case SettingsId.ENABLE_PUSH:
      if (value > 1) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH of ${value}, must be 0 or 1`);
      return undefined;
    case SettingsId.INITIAL_WINDOW_SIZE:
      if (value > maxWindowSize) return connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE of ${value} is above 2^31-1`);
      return undefined;
    case SettingsId.MAX_FRAME_SIZE:
      if (value < minMaxFrameSize || value > maxMaxFrameSize) {
        return connectionError(Http2ErrorCode.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE of ${value} is outside 16384..16777215`);
      }
      return undefined;
    case SettingsId.ENABLE_CONNECT_PROTOCOL:
      if (value > 1) return connectionError(Http2ErrorCode.PROTOCOL_ERROR, `SETTINGS_ENABLE_CONNECT_PROTOCOL of ${value}, must be 0 or 1`);
      return undefined;
    default:
      return undefined;
  }
}
