/**
 * A header block arriving as HEADERS plus CONTINUATION frames (RFC 9113 §6.10). HPACK
 * state forces us to decode a block whole, so its bytes are buffered, and capped in
 * bytes and in frames: a CONTINUATION flood must not grow our memory.
 */

export interface CompleteHeaderBlock {
  streamId: number;
  block: Uint8Array;
  endStream: boolean;
  /** The HEADERS frame's priority named its own stream (a stream error once decoded). */
  selfDependent: boolean;
}

export class HeaderBlockAssembler {
  /** The stream whose block is in progress, or 0. */
  streamId = 0;
  private endStream = false;
  private selfDependent = false;
  private chunks: Uint8Array[] = [];
  private bytes = 0;
  private frames = 0;

  constructor(private readonly maxBytes: number, private readonly maxFrames: number) {}

  get inProgress(): boolean {
    return this.streamId !== 0;
  }

  /** A HEADERS frame without END_HEADERS. */
  start(streamId: number, fragment: Uint8Array, endStream: boolean, selfDependent: boolean): string | undefined {
    this.streamId = streamId;
    this.endStream = endStream;
    this.selfDependent = selfDependent;
    this.chunks = [fragment];
    this.bytes = fragment.length;
    this.frames = 1;
    return this.overLimit();
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

  private overLimit(): string | undefined {
    if (this.frames > this.maxFrames) return `header block of stream ${this.streamId} is over ${this.maxFrames} frames`;
    if (this.bytes > this.maxBytes) return `header block of stream ${this.streamId} is over ${this.maxBytes} bytes`;
    return undefined;
  }
}
