/**
 * A header block arriving as HEADERS plus CONTINUATION frames (RFC 9113 §6.10). HPACK
 * state forces us to decode a block whole, so its bytes are buffered, and capped in
 * bytes, in frames and in time: a CONTINUATION flood, or a block left unfinished, must
 * not hold our memory. Decoding the block is left to stream-frames.ts.
 */

export interface CompleteHeaderBlock {
  streamId: number;
  block: Uint8Array;
  endStream: boolean;
  /** The HEADERS frame's priority named its own stream (a stream error once decoded). */
  selfDependent: boolean;
}

export interface HeaderBlockLimits {
  maxBytes: number;
  maxFrames: number;
  /** How long a block may wait for its last CONTINUATION. */
  timeoutMs: number;
}

export class HeaderBlockAssembler {
  /** The stream whose block is in progress, or 0. */
  streamId = 0;
  private endStream = false;
  private selfDependent = false;
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private frames = 0;
  /** Runs while a block waits for its CONTINUATION frames. */
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `onTimeout` gets why, when a block is not finished within `limits.timeoutMs` (the connection ends). */
  constructor(private readonly limits: HeaderBlockLimits, private readonly onTimeout: (message: string) => void) {
    this.expire = this.expire.bind(this);
  }

  get inProgress(): boolean {
    return this.streamId !== 0;
  }

  /** A HEADERS frame without END_HEADERS; returns why it is too much, if it is (then no timer runs). */
  start(streamId: number, fragment: Uint8Array, endStream: boolean, selfDependent: boolean): string | undefined {
    this.streamId = streamId;
    this.endStream = endStream;
    this.selfDependent = selfDependent;
    this.chunks = [fragment];
    this.bytes = fragment.length;
    this.frames = 1;
    const tooMuch = this.overLimit();
    if (tooMuch !== undefined) return tooMuch;
    this.timer = setTimeout(this.expire, this.limits.timeoutMs);
    this.timer.unref();
    return undefined;
  }

  /** A CONTINUATION for the block in progress; returns why it is too much, if it is. */
  add(fragment: Uint8Array): string | undefined {
    this.chunks.push(fragment);
    this.bytes += fragment.length;
    this.frames++;
    return this.overLimit();
  }

  /** The whole block, after the frame with END_HEADERS. */
  finish(): CompleteHeaderBlock {
    this.stop();
    const block = new Uint8Array(this.bytes);
    let offset = 0;
    for (const chunk of this.chunks) {
      block.set(chunk, offset);
      offset += chunk.length;
    }
    const complete = { streamId: this.streamId, block, endStream: this.endStream, selfDependent: this.selfDependent };
    this.streamId = 0;
    this.chunks = [];
    return complete;
  }

  /** The connection is ending: the timer must not keep running or fire. */
  stop(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expire(): void {
    this.timer = undefined;
    this.onTimeout(`header block of stream ${this.streamId} not finished within ${this.limits.timeoutMs} ms`);
  }

  private overLimit(): string | undefined {
    const { maxFrames, maxBytes } = this.limits;
    if (this.frames > maxFrames) return `header block of stream ${this.streamId} is over ${maxFrames} frames`;
    if (this.bytes > maxBytes) return `header block of stream ${this.streamId} is over ${maxBytes} bytes`;
    return undefined;
  }
}
