/**
 * Connection backoff (grpc/grpc doc/connection-backoff.md): initial 1 s, multiplier 1.6,
 * jitter ±20 %, capped at 120 s, and a minimum connect timeout of 20 s. Every parameter
 * is configurable so tests can run fast; the defaults are the document's.
 */

export interface BackoffOptions {
  initialBackoffMs?: number;
  multiplier?: number;
  jitter?: number;
  maxBackoffMs?: number;
  minConnectTimeoutMs?: number;
}

export const defaultBackoff: Required<BackoffOptions> = {
  initialBackoffMs: 1_000,
  multiplier: 1.6,
  jitter: 0.2,
  maxBackoffMs: 120_000,
  minConnectTimeoutMs: 20_000,
};

/** The state of one connect-retry loop; `reset()` after a successful connection. */
export class ConnectionBackoff {
  private readonly options: Required<BackoffOptions>;
  private currentMs: number;

  constructor(options: BackoffOptions = {}, private readonly random: () => number = Math.random) {
    this.options = { ...defaultBackoff, ...options };
    this.currentMs = this.options.initialBackoffMs;
  }

  /** How long a connection attempt may take: max(time to the next attempt, MIN_CONNECT_TIMEOUT). */
  connectTimeoutMs(): number {
    return Math.max(this.currentMs, this.options.minConnectTimeoutMs);
  }

  /**
   * The delay before the next attempt, measured from the start of the failed one:
   * the current backoff with jitter; the backoff then grows for the attempt after.
   */
  nextDelayMs(): number {
    const { jitter, multiplier, maxBackoffMs } = this.options;
    const delay = this.currentMs * (1 + jitter * (this.random() * 2 - 1));
    this.currentMs = Math.min(this.currentMs * multiplier, maxBackoffMs);
    return Math.max(0, delay);
  }

  reset(): void {
    this.currentMs = this.options.initialBackoffMs;
  }
}
