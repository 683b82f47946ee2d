/**
 * Server connection management (gRFC A9) and server keepalive for one h2 connection:
 * the timers for max idle, max age (jittered ±10 %) and its grace, and keepalive PINGs
 * on a quiet connection. It only decides when; the connection sends the frames (the
 * two-phase GOAWAY, PING) and closes. All times are on the monotonic clock.
 */
import { performance } from "node:perf_hooks";
import type { H2Limits } from "./options.js";

/** What the manager needs of a server connection. */
export interface ManagedConnection {
  /** Streams open now: each is a call. */
  readonly streams: { readonly size: number };
  /** When bytes last arrived (performance.now()). */
  readonly lastReadAt: number;
  /** Graceful close: GOAWAY(2^31-1) with `debug`, a PING, then the final GOAWAY (`onFinalGoaway` runs then). */
  close(debug: string, onFinalGoaway: () => void): void;
  ping(opaqueData: Uint8Array, onAck: () => void): void;
  /** Closes at once; open streams are aborted (their handlers see CANCELLED). */
  destroy(error: Error): void;
}

export const maxIdleDebug = "max_idle";
export const maxAgeDebug = "max_age";

const maxDelayMs = 2 ** 31 - 1;

/** A timer for a time on the monotonic clock; setTimeout's 2^31-1 ms limit is chained past. Unref'd. */
class Alarm {
  private handle: ReturnType<typeof setTimeout> | undefined;

  set(at: number, fn: () => void): void {
    this.clear();
    const arm = () => {
      const left = at - performance.now();
      if (left <= 0) {
        this.handle = undefined;
        fn();
        return;
      }
      this.handle = setTimeout(arm, Math.min(Math.ceil(left), maxDelayMs));
      this.handle.unref();
    };
    arm();
  }

  clear(): void {
    if (this.handle !== undefined) clearTimeout(this.handle);
    this.handle = undefined;
  }
}

export class ConnectionManager {
  private readonly idle = new Alarm();
  private readonly age = new Alarm();
  private readonly grace = new Alarm();
  private readonly keepalive = new Alarm();
  private readonly keepaliveTimeout = new Alarm();
  /** When the last call ended (or the connection began): the idle clock's start. */
  private idleSince: number;
  private keepalivePings = 0;
  private stopped = false;

  constructor(private readonly conn: ManagedConnection, private readonly limits: H2Limits) {
    const now = performance.now();
    this.idleSince = now;
    if (Number.isFinite(limits.maxConnectionIdleMs)) this.idle.set(now + limits.maxConnectionIdleMs, () => this.checkIdle());
    if (Number.isFinite(limits.maxConnectionAgeMs)) {
      // A9: ±10 % jitter, so connections opened together do not all go away together.
      const ageMs = limits.maxConnectionAgeMs * (0.9 + 0.2 * Math.random());
      this.age.set(now + ageMs, () => this.goAway(maxAgeDebug));
    }
    if (Number.isFinite(limits.keepaliveTimeMs)) this.keepalive.set(now + limits.keepaliveTimeMs, () => this.checkKeepalive());
  }

  /** A stream left the connection. Only a timestamp here: the idle alarm checks lazily. */
  streamClosed(): void {
    if (Number.isFinite(this.limits.maxConnectionIdleMs) && this.conn.streams.size === 0) this.idleSince = performance.now();
  }

  /** The connection is gone (or closing on its own): no more timers. */
  stop(): void {
    this.stopped = true;
    this.idle.clear();
    this.age.clear();
    this.grace.clear();
    this.keepalive.clear();
    this.keepaliveTimeout.clear();
  }

  private checkIdle(): void {
    const idleMs = this.limits.maxConnectionIdleMs;
    const now = performance.now();
    // With calls open the connection cannot be idle before one more full period.
    if (this.conn.streams.size > 0) this.idle.set(now + idleMs, () => this.checkIdle());
    else if (now - this.idleSince < idleMs) this.idle.set(this.idleSince + idleMs, () => this.checkIdle());
    else this.goAway(maxIdleDebug);
  }

  private goAway(debug: string): void {
    if (this.stopped) return;
    this.idle.clear();
    this.age.clear();
    this.conn.close(debug, () => {
      const graceMs = this.limits.maxConnectionAgeGraceMs;
      if (debug !== maxAgeDebug || !Number.isFinite(graceMs) || this.stopped) return;
      // A9: measured from the final GOAWAY; calls still running then are cancelled.
      this.grace.set(performance.now() + graceMs, () => this.conn.destroy(new Error(`connection closed: calls still running ${graceMs} ms after max_age GOAWAY`)));
    });
  }

  /** Pings a connection from which nothing was read for keepaliveTimeMs. */
  private checkKeepalive(): void {
    if (this.stopped) return;
    const { keepaliveTimeMs, keepaliveTimeoutMs } = this.limits;
    const now = performance.now();
    const quietSince = this.conn.lastReadAt;
    if (now - quietSince < keepaliveTimeMs) {
      this.keepalive.set(quietSince + keepaliveTimeMs, () => this.checkKeepalive());
      return;
    }
    const data = new Uint8Array(8);
    data[0] = 0x73; // "s": never equal to the random PING of a two-phase GOAWAY
    new DataView(data.buffer).setUint32(4, ++this.keepalivePings);
    this.conn.ping(data, () => {
      this.keepaliveTimeout.clear();
      if (!this.stopped) this.keepalive.set(this.conn.lastReadAt + keepaliveTimeMs, () => this.checkKeepalive());
    });
    this.keepaliveTimeout.set(now + keepaliveTimeoutMs, () => {
      // Any bytes read since the PING prove the peer alive, as an ACK would (A8).
      if (this.conn.lastReadAt > now) {
        this.checkKeepalive();
        return;
      }
      this.conn.destroy(new Error(`keepalive ping not acknowledged within ${keepaliveTimeoutMs} ms`));
    });
  }
}
