/**
 * Settings and protections of the h2 transport, with their defaults. Every limit a
 * peer could push against is here, so an operator can see and tune them in one place.
 */

export interface H2Limits {
  /** Peer-initiated streams open at once; beyond it a new stream gets RST_STREAM(REFUSED_STREAM). */
  maxConcurrentStreams: number;
  /** SETTINGS_INITIAL_WINDOW_SIZE: how much each stream may send us before we read it. */
  initialWindowSize: number;
  /** The connection receive window we open up to with WINDOW_UPDATE. */
  connectionWindowSize: number;
  /**
   * Received bytes held for paused readers for which the connection window is still
   * returned at once; past it, window is returned only as readers consume, so paused
   * streams cannot grow our memory without bound.
   */
  maxBufferedBytes: number;
  /** SETTINGS_MAX_FRAME_SIZE we accept. */
  maxFrameSize: number;
  /** SETTINGS_MAX_HEADER_LIST_SIZE: Σ(name + value + 32) of one header block. */
  maxHeaderListSize: number;
  /** SETTINGS_HEADER_TABLE_SIZE: the HPACK table the peer's encoder may use. */
  headerTableSize: number;
  /** Our encoder's own cap on its dynamic table, whatever the peer allows. */
  encoderTableSize: number;
  /** How long the peer has to acknowledge our SETTINGS before SETTINGS_TIMEOUT. */
  settingsTimeoutMs: number;
  /** Response bytes queued per stream before `write` returns false. */
  streamHighWaterMark: number;
  /** Bytes waiting in the socket before DATA frames are held back (control frames still go). */
  socketHighWaterMark: number;
  /** Control frames we may owe a peer that does not read (PING and SETTINGS ACKs, RST_STREAMs) before ENHANCE_YOUR_CALM. */
  maxPendingControlFrames: number;
  /** CONTINUATION frames in one header block. */
  maxContinuationFrames: number;
  /**
   * How long a header block split over CONTINUATION frames may take to finish. No other
   * frame may come between its frames (RFC 9113 §6.10), so a peer that stops mid-block
   * holds the whole connection: past this it gets GOAWAY ENHANCE_YOUR_CALM.
   */
  headerBlockTimeoutMs: number;
  /** Flood limits: a burst, then a rate per second, per connection. */
  pingFlood: RateLimit;
  settingsFlood: RateLimit;
  /** Streams reset by the peer or refused by us (rapid reset, CVE-2023-44487). */
  resetFlood: RateLimit;
  /** DATA without END_STREAM and with no payload, and empty CONTINUATION frames. */
  emptyFrameFlood: RateLimit;
  /** WINDOW_UPDATE, PRIORITY and unknown frames, which cost us work but carry none. */
  controlFrameFlood: RateLimit;
  /** Stream errors the peer causes (we answer each with RST_STREAM). */
  streamErrorFlood: RateLimit;
  /** Two-phase GOAWAY: how long to wait for the PING that follows the first GOAWAY. */
  goawayPingTimeoutMs: number;

  // ---- server only: ping policing (gRFC A8 server enforcement, C-core's ping abuse policy) ----
  // Off for the bare transport (any PING rate under pingFlood is fine); the gRPC Server
  // turns it on with A8's defaults, 5 min and no pings without calls.
  /**
   * PERMIT_KEEPALIVE_TIME: a PING sooner than this after the previous one is a strike
   * (with no call open and `keepalivePermitWithoutCalls` false, the interval is 2 h).
   */
  keepaliveMinPingIntervalMs: number;
  /** PERMIT_KEEPALIVE_WITHOUT_CALLS: whether PINGs on a connection with no call open are fine. */
  keepalivePermitWithoutCalls: boolean;
  /** Strikes forgiven; one more ends the connection with GOAWAY ENHANCE_YOUR_CALM "too_many_pings". */
  maxPingStrikes: number;

  // ---- server only: connection management (gRFC A9) and keepalive; Infinity turns one off ----
  /** MAX_CONNECTION_IDLE: no call open for this long ⇒ graceful GOAWAY(NO_ERROR, "max_idle"). */
  maxConnectionIdleMs: number;
  /** MAX_CONNECTION_AGE, jittered ±10 %: ⇒ graceful GOAWAY(NO_ERROR, "max_age"); running calls go on. */
  maxConnectionAgeMs: number;
  /** MAX_CONNECTION_AGE_GRACE: after the final "max_age" GOAWAY, calls still running get this long, then the connection is closed. */
  maxConnectionAgeGraceMs: number;
  /** Nothing read for this long ⇒ we PING the client. */
  keepaliveTimeMs: number;
  /** Nothing read within this after our keepalive PING ⇒ the connection is closed and its calls cancelled. */
  keepaliveTimeoutMs: number;
}

export interface RateLimit {
  burst: number;
  perSecond: number;
}

export type H2Options = Partial<H2Limits>;

export const defaultH2Limits: H2Limits = {
  maxConcurrentStreams: 1000,
  initialWindowSize: 256 * 1024,
  connectionWindowSize: 1024 * 1024,
  maxBufferedBytes: 1024 * 1024,
  maxFrameSize: 16_384,
  maxHeaderListSize: 16 * 1024,
  headerTableSize: 4096,
  encoderTableSize: 4096,
  settingsTimeoutMs: 10_000,
  streamHighWaterMark: 64 * 1024,
  socketHighWaterMark: 256 * 1024,
  maxPendingControlFrames: 1000,
  maxContinuationFrames: 128,
  headerBlockTimeoutMs: 10_000,
  pingFlood: { burst: 1000, perSecond: 100 },
  settingsFlood: { burst: 100, perSecond: 10 },
  resetFlood: { burst: 1000, perSecond: 100 },
  emptyFrameFlood: { burst: 1000, perSecond: 100 },
  controlFrameFlood: { burst: 100_000, perSecond: 50_000 },
  streamErrorFlood: { burst: 1000, perSecond: 100 },
  goawayPingTimeoutMs: 1000,
  keepaliveMinPingIntervalMs: 0,
  keepalivePermitWithoutCalls: true,
  maxPingStrikes: 2,
  maxConnectionIdleMs: Infinity,
  maxConnectionAgeMs: Infinity,
  maxConnectionAgeGraceMs: Infinity,
  keepaliveTimeMs: 2 * 60 * 60_000,
  keepaliveTimeoutMs: 20_000,
};

export function resolveH2Limits(options: H2Options | undefined): H2Limits {
  if (options === undefined) return defaultH2Limits;
  const limits = { ...defaultH2Limits };
  for (const key of Object.keys(options) as (keyof H2Limits)[]) {
    const value = options[key];
    if (value !== undefined) (limits as Record<string, unknown>)[key] = value;
  }
  return limits;
}
