/**
 * HTTP/2 wire constants (RFC 9113): frame types, flags, settings identifiers, error
 * codes, limits and the client connection preface. Pure data: no node: imports.
 */

/** Frame type codes (RFC 9113 §6, §11.2). */
export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

/** Frame flags; a flag's meaning depends on the frame type (RFC 9113 §6). */
export const FrameFlag = {
  /** DATA, HEADERS. */
  END_STREAM: 0x1,
  /** SETTINGS, PING. */
  ACK: 0x1,
  /** HEADERS, PUSH_PROMISE, CONTINUATION. */
  END_HEADERS: 0x4,
  /** DATA, HEADERS, PUSH_PROMISE. */
  PADDED: 0x8,
  /** HEADERS. */
  PRIORITY: 0x20,
} as const;

/** SETTINGS parameter identifiers (RFC 9113 §6.5.2). */
export const SettingsId = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
  /** RFC 8441; recognised so it is not mistaken for garbage, never enabled here. */
  ENABLE_CONNECT_PROTOCOL: 0x8,
} as const;

/** RST_STREAM and GOAWAY error codes (RFC 9113 §7). */
export const Http2ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

const errorNames = Object.fromEntries(Object.entries(Http2ErrorCode).map(([name, code]) => [code, name])) as Record<number, string>;

/** "PROTOCOL_ERROR", or "UNKNOWN(0x42)" for a code the RFC does not define. */
export function http2ErrorName(code: number): string {
  return errorNames[code] ?? `UNKNOWN(0x${code.toString(16)})`;
}

/** Frame header: 24-bit length, 8-bit type, 8-bit flags, 1 reserved bit + 31-bit stream id. */
export const frameHeaderLength = 9;

/** The initial and smallest allowed SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2). */
export const minMaxFrameSize = 16_384;
/** The largest SETTINGS_MAX_FRAME_SIZE a peer may announce: 2^24 - 1. */
export const maxMaxFrameSize = 16_777_215;
/** Flow-control windows never exceed 2^31 - 1 (RFC 9113 §6.9.1). */
export const maxWindowSize = 2_147_483_647;
/** The initial stream and connection window before any SETTINGS (RFC 9113 §6.9.2). */
export const defaultInitialWindowSize = 65_535;
/** The initial HPACK dynamic table size (RFC 9113 §6.5.2). */
export const defaultHeaderTableSize = 4_096;
/** Stream identifiers are 31-bit. */
export const maxStreamId = 2_147_483_647;

/** The client connection preface: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" (RFC 9113 §3.4). */
export const connectionPreface: Uint8Array = new Uint8Array([
  0x50, 0x52, 0x49, 0x20, 0x2a, 0x20, 0x48, 0x54, 0x54, 0x50, 0x2f, 0x32, 0x2e, 0x30, 0x0d, 0x0a,
  0x0d, 0x0a, 0x53, 0x4d, 0x0d, 0x0a, 0x0d, 0x0a,
]);
