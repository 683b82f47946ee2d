/**
 * Retry throttling (gRFC A6): a token bucket per channel that starts full; each
 * failure with a retryable (or non-fatal) status costs a token, each success gives back
 * `tokenRatio`; retries and hedges go out only while more than half the tokens remain.
 */
import type { RetryThrottling } from "../config/service-config.js";

export class RetryThrottle {
  private tokens: number;

  constructor(readonly config: RetryThrottling) {
    this.tokens = config.maxTokens;
  }

  /** Whether another attempt may start now. */
  allowsRetry(): boolean {
    return this.tokens > this.config.maxTokens / 2;
  }

  recordFailure(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  recordSuccess(): void {
    this.tokens = Math.min(this.config.maxTokens, this.tokens + this.config.tokenRatio);
  }

  /** The tokens left (for tests and diagnostics). */
  get available(): number {
    return this.tokens;
  }
}
