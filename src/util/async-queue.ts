/**
 * A single-consumer async iterable fed by push: incoming stream messages on both
 * client and server. It tells its producer when to pause (`onPressure`) so that a
 * slow consumer never grows memory without bound. Pure: no node: imports.
 */

/**
 * Incoming messages are weighed by their encoded size, at least `minMessageWeight`
 * each (a decoded object costs memory of its own), and a stream pauses once this many
 * bytes wait for the reader: sixteen 1 KiB messages, or one large one. A count of
 * messages would let sixteen 4 MiB messages (64 MiB) wait per stream; the stream window
 * bounds what waits beyond the queue. A deeper queue measured no faster
 * (bench bidi echo: more messages in flight, each one colder in the cache).
 */
export const messageQueueHighWaterMark = 16 * 1024;
const minMessageWeight = 256;

/** What an incoming message of `encodedBytes` weighs in a queue of messageQueueHighWaterMark. */
export function messageWeight(encodedBytes: number): number {
  return Math.max(encodedBytes, minMessageWeight);
}

type Waiter<T> = { resolve: (r: IteratorResult<T>) => void; reject: (e: unknown) => void };

export class AsyncQueue<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  /** Each buffered item's weight, parallel to `items`. */
  private readonly weights: number[] = [];
  private head = 0;
  /** The weight of the items buffered now. */
  private buffered = 0;
  private waiter: Waiter<T> | undefined;
  private ended = false;
  private error: unknown = undefined;
  private failed = false;
  /** Set by failAfterBuffered: the error the consumer gets once the buffer is read. */
  private deferredError: { error: unknown } | undefined;
  private paused = false;
  private consumed = false;
  private onConsumed: (() => void) | undefined;

  /**
   * @param highWaterMark weight buffered before the producer is asked to pause (items
   *   weigh 1 unless `push` says otherwise; message queues weigh them in bytes)
   * @param onPressure called with true to pause the producer and false to resume it
   * @param onReturn called when the consumer stops early (break, return)
   */
  constructor(
    private readonly highWaterMark = 16,
    private readonly onPressure?: (pause: boolean) => void,
    private readonly onReturn?: () => void,
  ) {}

  push(item: T, weight = 1): void {
    if (this.ended || this.failed || this.deferredError !== undefined) return;
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter.resolve({ value: item, done: false });
      return;
    }
    this.items.push(item);
    this.weights.push(weight);
    this.buffered += weight;
    if (!this.paused && this.buffered >= this.highWaterMark && this.onPressure !== undefined) {
      this.paused = true;
      this.onPressure(true);
    }
  }

  /** No more items: the consumer finishes after the buffered ones. */
  end(): void {
    if (this.ended || this.failed || this.deferredError !== undefined) return;
    this.ended = true;
    const waiter = this.waiter;
    if (waiter !== undefined && this.head === this.items.length) {
      this.waiter = undefined;
      this.markConsumed();
      waiter.resolve({ value: undefined, done: true });
    }
  }

  /** Fails the consumer's next read (buffered items are dropped). */
  fail(error: unknown): void {
    if (this.ended || this.failed) return;
    this.failed = true;
    this.error = error;
    this.clearBuffer();
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      this.markConsumed();
      waiter.reject(error);
    }
  }

  /**
   * Runs `fn` once the consumer has seen the end — the last item and then done, or the
   * error — or stopped early: e.g. a call's trailers, reported after its messages.
   */
  whenConsumed(fn: () => void): void {
    if (this.consumed) fn();
    else this.onConsumed = fn;
  }

  private markConsumed(): void {
    if (this.consumed) return;
    this.consumed = true;
    const fn = this.onConsumed;
    this.onConsumed = undefined;
    fn?.();
  }

  /**
   * Fails the consumer after it has read the buffered items: a call's error status comes
   * after the messages received before it, however slowly they are read.
   */
  failAfterBuffered(error: unknown): void {
    if (this.ended || this.failed || this.deferredError !== undefined) return;
    if (this.head === this.items.length) return this.fail(error);
    this.deferredError = { error };
  }

  next(): Promise<IteratorResult<T>> {
    if (this.head < this.items.length) {
      const value = this.items[this.head]!;
      this.buffered -= this.weights[this.head]!;
      this.items[this.head++] = undefined as T;
      if (this.head === this.items.length) this.clearBuffer();
      if (this.paused && this.buffered < this.highWaterMark / 2) {
        this.paused = false;
        this.onPressure?.(false);
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.deferredError !== undefined) {
      this.failed = true;
      this.error = this.deferredError.error;
      this.deferredError = undefined;
    }
    if (this.failed) {
      this.markConsumed();
      return Promise.reject(this.error);
    }
    if (this.ended) {
      this.markConsumed();
      return Promise.resolve({ value: undefined, done: true });
    }
    if (this.paused) {
      this.paused = false;
      this.onPressure?.(false);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    const early = !this.ended && !this.failed && this.deferredError === undefined;
    this.ended = true;
    // Also after end(): the consumer is done, so buffered items must not be read later.
    this.clearBuffer();
    if (early) this.onReturn?.();
    this.markConsumed();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private clearBuffer(): void {
    this.items.length = 0;
    this.weights.length = 0;
    this.head = 0;
    this.buffered = 0;
  }
}
