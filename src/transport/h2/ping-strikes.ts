/**
 * Server ping policing (gRFC A8 "server enforcement"; C-core's ping abuse policy): a
 * PING that comes sooner than permitted after the previous one is a strike, and a peer
 * past its strikes gets GOAWAY ENHANCE_YOUR_CALM "too_many_pings". Time comes from the
 * caller (a monotonic clock), so this file does no I/O and keeps no timers.
 */

/** The GOAWAY debug data clients look for to double their keepalive time (A8). */
export const tooManyPings = "too_many_pings";

/** With no call open, and pings without calls not permitted, a PING needs this long since the previous one. */
export const idlePingIntervalMs = 2 * 60 * 60_000;

export class PingStrikes {
  /** When the previous PING came; as in C-core and grpc-go, every PING moves it, a struck one too. */
  private lastPingAt = -Infinity;
  private strikes = 0;

  constructor(
    private readonly minIntervalMs: number,
    private readonly permitWithoutCalls: boolean,
    private readonly maxStrikes: number,
  ) {}

  /** Counts a PING received at `now` (ms, monotonic); false once the peer is past its strikes. */
  received(now: number, callsOpen: boolean): boolean {
    const interval = callsOpen || this.permitWithoutCalls ? this.minIntervalMs : Math.max(idlePingIntervalMs, this.minIntervalMs);
    const tooSoon = now - this.lastPingAt < interval;
    this.lastPingAt = now;
    if (!tooSoon) return true;
    return ++this.strikes <= this.maxStrikes;
  }

  /** We sent HEADERS or DATA: the connection is in use, so the peer starts over (C-core resets both). */
  reset(): void {
    this.strikes = 0;
    this.lastPingAt = -Infinity;
  }
}
