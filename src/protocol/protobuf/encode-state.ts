/**
 * The state of one encode call (output buffer, recorded steps, measured lengths) and
 * the two signals that abandon an attempt: fall back to toBinary, or encode again
 * with strings measured exactly. Pure: no node: imports.
 */
import type { WriteStep } from "./write-step.js";

/** Thrown (one shared instance, so no stack is captured) when a value is outside the
 *  fast path. The encoder then calls toBinary, which encodes the value its own way or
 *  throws protobuf-es's own error for it; output stays identical either way. */
export class FallbackToBinary extends Error {
  override readonly name = "FallbackToBinary";
}

const fallbackSignal = new FallbackToBinary("value outside the fast encoder's path; use toBinary");

/** Leaves the fast path for this message; see FallbackToBinary. */
export function fallback(): never {
  throw fallbackSignal;
}

/** Thrown (one shared instance) by the write pass when a string it was told is ASCII
 *  is not; the encoder then encodes the message again, measuring strings exactly. */
export class NotAscii extends Error {
  override readonly name = "NotAscii";
}

const notAsciiSignal = new NotAscii("a string assumed ASCII is not");

/** Abandons an attempt that assumed ASCII; see NotAscii. */
export function notAscii(): never {
  throw notAsciiSignal;
}

const emptyBytes = new Uint8Array(0);

/** Table entries kept between calls; a message with more parts regrows its own. */
const maxIdleSlots = 1 << 16;

/**
 * One encode call's state. The plan (the size pass) reads the message once: it
 * records, in output order, each write step with its value, and the lengths only
 * measuring could tell (nested messages, strings, map entries, packed runs). The write
 * pass replays the steps into an exact-size buffer without reading the message again;
 * each step reads its lengths back in the order its plan stored them. Reused across
 * calls, never by two calls at once.
 */
export class EncodeState {
  buf: Uint8Array = emptyBytes;
  pos = 0;
  /**
   * True: the plan sizes every string as if it were ASCII (UTF-8 length = length,
   * no scan) and the write pass throws NotAscii if one is not. False: strings are
   * measured exactly and their lengths stored.
   */
  assumeAscii = true;
  steps: WriteStep[] = [];
  values: unknown[] = [];
  stepCount = 0;
  lengths = new Int32Array(64);
  /** Plan: the next free slot in `lengths`. */
  lengthCount = 0;
  /** Write pass: the next slot to read. */
  lengthRead = 0;

  /** Plan: `step` writes `value` at this point of the output. */
  record(step: WriteStep, value: unknown): void {
    const n = this.stepCount++;
    this.steps[n] = step;
    this.values[n] = value;
  }

  /** Plan: a slot for a length that is known only after its content is measured. */
  reserveLength(): number {
    if (this.lengthCount === this.lengths.length) {
      const grown = new Int32Array(this.lengths.length * 2);
      grown.set(this.lengths);
      this.lengths = grown;
    }
    return this.lengthCount++;
  }

  /** Plan: stores a length known right away (a string's UTF-8 length). */
  pushLength(n: number): void {
    const slot = this.reserveLength(); // may replace `lengths`: index it only after
    this.lengths[slot] = n;
  }

  /** Write pass: the next length the plan stored. */
  nextLength(): number {
    return this.lengths[this.lengthRead++] ?? fallback();
  }

  /** Starts a call with nothing planned. */
  begin(): void {
    this.stepCount = 0;
    this.lengthCount = 0;
    this.lengthRead = 0;
  }

  /** Ends a call: drops references to the caller's values and buffer, and tables an
   *  unusually large message grew. */
  end(): void {
    this.buf = emptyBytes;
    this.pos = 0;
    const values = this.values;
    for (let i = 0; i < this.stepCount; i++) values[i] = undefined; // a loop beats fill(v, start, end)
    if (this.lengths.length > maxIdleSlots) this.lengths = new Int32Array(64);
    if (this.steps.length > maxIdleSlots) {
      this.steps = [];
      this.values = [];
    }
  }
}
