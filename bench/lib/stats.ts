/**
 * Order statistics for latency samples and repetitions. Percentiles use the
 * nearest-rank method on sorted samples: p99.9 of 1,000 samples is the 999th.
 */

/** The value at percentile `p` (0 < p <= 100) of sorted ascending `sorted`; NaN when empty. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  // The epsilon keeps 99.9% of 1000 (999.0000000000001 in floating point) at rank 999.
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  count: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
}

/** p50, p99 and p99.9 of latencies in microseconds. Sorts `samples` in place. */
export function summarizeLatencies(samples: Float64Array): LatencySummary {
  samples.sort();
  return {
    count: samples.length,
    p50Us: percentileOfSorted(samples, 50),
    p99Us: percentileOfSorted(samples, 99),
    p999Us: percentileOfSorted(samples, 99.9),
  };
}

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median, min and max of the finite values; undefined when there are none. */
export function spread(values: readonly number[]): Spread | undefined {
  const finite = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (finite.length === 0) return undefined;
  const mid = finite.length >> 1;
  const median = finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2;
  return { median, min: finite[0]!, max: finite[finite.length - 1]! };
}

/** A growable buffer of latency samples (µs) that does not allocate per sample. */
export class SampleBuffer {
  private data = new Float64Array(1 << 16);
  private length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = value;
  }

  get size(): number {
    return this.length;
  }

  summarize(): LatencySummary {
    return summarizeLatencies(this.data.subarray(0, this.length));
  }
}
