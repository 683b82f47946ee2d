/**
 * A token bucket: a burst of `burst` events, refilled at `perSecond`. The h2 transport
 * keeps one per kind of frame a peer could flood it with (PING, SETTINGS, RST_STREAM,
 * empty frames…); running dry means the peer is abusive, and it gets GOAWAY
 * ENHANCE_YOUR_CALM. Time comes from the caller, so the bucket itself does no I/O.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly burst: number, private readonly perSecond: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  /** Spends one token; false when none is left. */
  take(now: number): boolean {
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    const elapsedMs = now - this.last;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsedMs * this.perSecond) / 1000);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
