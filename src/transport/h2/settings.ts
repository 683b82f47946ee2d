/**
 * SETTINGS for one HTTP/2 connection (RFC 9113 §6.5): the list we announce, the timeout
 * for its ACK, and the peer's values as they apply to us. Frames and connection errors
 * stay with the connection; this file only says what the settings are and what is wrong.
 */
import { Http2ErrorCode, SettingsId, defaultInitialWindowSize, minMaxFrameSize } from "../../protocol/http2/constants.js";
import type { Setting } from "../../protocol/http2/frame.js";
import type { HpackEncoder } from "../../protocol/http2/hpack-encoder.js";
import type { H2Limits } from "./options.js";
import type { H2Stream } from "./stream.js";

/** What applying SETTINGS_INITIAL_WINDOW_SIZE needs of a stream. */
export type WindowedStream = Pick<H2Stream, "id" | "adjustSendWindow">;

/** Why a peer's SETTINGS frame is a connection error. */
export interface SettingsError {
  code: number;
  message: string;
}

/** Our SETTINGS: only values that differ from the RFC defaults, plus those we always state. */
export function localSettings(limits: H2Limits, isServer: boolean): Setting[] {
  const settings: Setting[] = [];
  if (limits.headerTableSize !== 4096) settings.push({ id: SettingsId.HEADER_TABLE_SIZE, value: limits.headerTableSize });
  if (!isServer) settings.push({ id: SettingsId.ENABLE_PUSH, value: 0 });
  if (isServer) settings.push({ id: SettingsId.MAX_CONCURRENT_STREAMS, value: limits.maxConcurrentStreams });
  if (limits.initialWindowSize !== defaultInitialWindowSize) settings.push({ id: SettingsId.INITIAL_WINDOW_SIZE, value: limits.initialWindowSize });
  if (limits.maxFrameSize !== minMaxFrameSize) settings.push({ id: SettingsId.MAX_FRAME_SIZE, value: limits.maxFrameSize });
  settings.push({ id: SettingsId.MAX_HEADER_LIST_SIZE, value: limits.maxHeaderListSize });
  return settings;
}

/**
 * Our SETTINGS frames not yet acknowledged. While any is, a timer runs; when it fires,
 * `onTimeout` ends the connection with SETTINGS_TIMEOUT (RFC 9113 §6.5.3).
 */
export class SettingsAckTimeout {
  private unacked = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly timeoutMs: number, private readonly onTimeout: () => void) {}

  /** We sent a SETTINGS frame. */
  sent(): void {
    this.unacked++;
    if (this.timer !== undefined) return;
    this.timer = setTimeout(this.onTimeout, this.timeoutMs);
    this.timer.unref();
  }

  /** The peer acknowledged one; the timer stops once all are. */
  acked(): void {
    if (this.unacked > 0 && --this.unacked === 0) this.stop();
  }

  /** The connection is ending: no timeout any more. */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** The peer's settings (RFC 9113 §6.5.2 initial values until its SETTINGS arrive). */
export class PeerSettings {
  maxFrameSize = minMaxFrameSize;
  initialWindowSize = defaultInitialWindowSize;
  maxConcurrentStreams = Infinity;
  maxHeaderListSize = Infinity;

  /**
   * Applies one SETTINGS frame in order: the HPACK encoder's table size and the send
   * windows of `streams` change with it. Returns the connection error when a value is
   * not allowed; values before it have been applied, those after it are not.
   */
  apply(settings: readonly Setting[], isServer: boolean, encoder: HpackEncoder, streams: ReadonlyMap<number, WindowedStream>): SettingsError | undefined {
    for (const { id, value } of settings) {
      switch (id) {
        case SettingsId.HEADER_TABLE_SIZE:
          encoder.setPeerMaxTableSize(value);
          break;
        case SettingsId.ENABLE_PUSH:
          if (!isServer && value !== 0) return { code: Http2ErrorCode.PROTOCOL_ERROR, message: "a server may not send SETTINGS_ENABLE_PUSH 1" };
          break;
        case SettingsId.MAX_CONCURRENT_STREAMS:
          this.maxConcurrentStreams = value;
          break;
        case SettingsId.INITIAL_WINDOW_SIZE: {
          const delta = value - this.initialWindowSize;
          this.initialWindowSize = value;
          for (const stream of streams.values()) {
            if (!stream.adjustSendWindow(delta)) {
              return { code: Http2ErrorCode.FLOW_CONTROL_ERROR, message: `SETTINGS_INITIAL_WINDOW_SIZE ${value} overflows the window of stream ${stream.id}` };
            }
          }
          break;
        }
        case SettingsId.MAX_FRAME_SIZE:
          this.maxFrameSize = value;
          break;
        case SettingsId.MAX_HEADER_LIST_SIZE:
          this.maxHeaderListSize = value;
          break;
        default:
          break; // unknown settings are ignored (RFC 9113 §6.5.2)
      }
    }
    return undefined;
  }
}
