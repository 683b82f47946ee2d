/**
 * Incremental HTTP/2 frame reader: bytes in as they arrive, whole frames out. A frame
 * declared longer than our SETTINGS_MAX_FRAME_SIZE is refused from its header alone,
 * before any of its payload is buffered (RFC 9113 §4.2). A frame split across reads
 * is copied once, when complete. Pure: no node: imports.
 */
import { Http2ErrorCode, frameHeaderLength } from "./constants.js";
import { connectionError, parseFrame, readFrameHeader, type Frame, type FrameError } from "./frame.js";

const zeroed = (bytes: number): Uint8Array => new Uint8Array(bytes);

export class FrameReader {
  /** Received chunks not yet consumed; the first is read from `offset`. */
  private chunks: Uint8Array[] = [];
  private offset = 0;
  private queued = 0;
  private failed = false;

  /**
   * `maxFrameSize` is the SETTINGS_MAX_FRAME_SIZE we announced; it may grow once
   * acknowledged. `allocate` makes the buffers split frames are joined in; each is
   * filled before it is read, so Node's transport passes one that skips zeroing (a
   * split DATA frame is up to 16 KiB, on most full socket reads).
   */
  constructor(public maxFrameSize: number, private readonly allocate: (bytes: number) => Uint8Array = zeroed) {}

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.queued;
  }

  /**
   * Adds received bytes. Frames returned later may be views into `chunk`, so the caller
   * must not reuse its memory.
   */
  push(chunk: Uint8Array): void {
    if (this.failed || chunk.length === 0) return;
    this.chunks.push(chunk);
    this.queued += chunk.length;
  }

  /**
   * The next complete frame, a connection or stream error, or undefined when more bytes
   * are needed. After an error of connection scope nothing more is returned.
   */
  next(): Frame | FrameError | undefined {
    if (this.failed || this.queued < frameHeaderLength) return undefined;
    let first = this.chunks[0]!;
    if (first.length - this.offset < frameHeaderLength) {
      this.join(frameHeaderLength);
      first = this.chunks[0]!;
    }
    const header = readFrameHeader(first, this.offset);
    if (header.length > this.maxFrameSize) {
      this.failed = true;
      this.chunks = [];
      this.queued = 0;
      return connectionError(Http2ErrorCode.FRAME_SIZE_ERROR, `frame of ${header.length} bytes is larger than SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`);
    }
    const total = frameHeaderLength + header.length;
    if (this.queued < total) return undefined;
    if (first.length - this.offset < total) {
      this.join(total);
      first = this.chunks[0]!;
    }
    const start = this.offset + frameHeaderLength;
    const end = this.offset + total;
    const payload = first.subarray(start, end);
    this.queued -= total;
    if (end === first.length) {
      this.chunks.shift();
      this.offset = 0;
    } else {
      this.offset = end;
    }
    const frame = parseFrame(header, payload);
    if (frame.type === "error" && frame.scope === "connection") {
      this.failed = true;
      this.chunks = [];
      this.queued = 0;
    }
    return frame;
  }

  /** Copies the first `bytes` queued bytes (at least) into one chunk at the front. */
  private join(bytes: number): void {
    const out = this.allocate(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.chunks[0]!;
      const take = Math.min(bytes - filled, chunk.length - this.offset);
      out.set(chunk.subarray(this.offset, this.offset + take), filled);
      filled += take;
      if (this.offset + take === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(this.offset + take);
      this.offset = 0;
    }
    this.chunks.unshift(out);
    this.offset = 0;
  }
}
