/**
 * Per-connection flood accounting: one token bucket per kind of frame a peer could
 * send in bulk to make us work (or owe it answers) for nothing. The connection asks
 * before handling each such frame; a "no" ends the connection with ENHANCE_YOUR_CALM.
 */
import { performance } from "node:perf_hooks";
import type { H2Limits } from "./options.js";
import { TokenBucket } from "./rate-limit.js";

export type FloodKind = "ping" | "settings" | "reset" | "emptyFrame" | "controlFrame" | "streamError";

/** The GOAWAY debug text for each flood. */
export const floodMessages: Readonly<Record<FloodKind, string>> = {
  ping: "PING flood",
  settings: "SETTINGS flood",
  reset: "too many streams reset (rapid reset)",
  emptyFrame: "empty frame flood",
  controlFrame: "control frame flood",
  streamError: "too many stream errors",
};

export class FloodGuard {
  private readonly buckets: Record<FloodKind, TokenBucket>;

  constructor(limits: H2Limits) {
    const now = performance.now();
    const bucket = (l: { burst: number; perSecond: number }) => new TokenBucket(l.burst, l.perSecond, now);
    this.buckets = {
      ping: bucket(limits.pingFlood),
      settings: bucket(limits.settingsFlood),
      reset: bucket(limits.resetFlood),
      emptyFrame: bucket(limits.emptyFrameFlood),
      controlFrame: bucket(limits.controlFrameFlood),
      streamError: bucket(limits.streamErrorFlood),
    };
  }

  /** Counts one event of `kind`; false once the peer is over its limit. */
  allow(kind: FloodKind): boolean {
    return this.buckets[kind].take(performance.now());
  }
}
