/**
 * HTTP/2 frame encoding into one growing output batch: every frame a connection
 * produces while handling one read (or one turn of the event loop) is appended here
 * and handed to the socket by a single `take()`. Frame headers and small payloads are
 * copied into a shared slab; large DATA payloads are passed by reference, not copied.
 * Pure: no node: imports. Callers respect the peer's limits; this only encodes.
 */
import { FrameFlag, FrameType, frameHeaderLength } from "./constants.js";
import type { Priority, Setting } from "./frame.js";

/** DATA payloads at least this long are queued by reference instead of copied. */
const copyLimit = 2048;
/** Slabs start small: an idle connection holds one. */
const initialSlabSize = 4 * 1024;
/** Slabs double up to this size under load; it is the only size `takeRetired` reports. */
export const maxSlabBytes = 64 * 1024;
const noSlabs: Uint8Array[] = [];

/** Makes a slab of `bytes`. The writer fills every byte it hands out, so it need not be zeroed. */
export type SlabAllocator = (bytes: number) => Uint8Array;

const zeroedSlab: SlabAllocator = (bytes) => new Uint8Array(bytes);

export class FrameWriter {
  private slab: Uint8Array;
  /** Start of the slab bytes not yet queued in `chunks`. */
  private start = 0;
  private pos = 0;
  private chunks: Uint8Array[] = [];
  private queued = 0;
  /**
   * The DATA frame last written, while nothing follows it in the slab: small writes
   * on the same stream extend it instead of adding a frame (frame boundaries carry no
   * meaning in DATA, RFC 9113 §6.1), so 1,000 streamed 1 KiB messages take ~65
   * frames, not 1,000.
   */
  private openDataAt = -1;
  private openDataStream = 0;
  /**
   * What releaseData undoes: where the last reserveData began, the old length of the
   * frame it joined (-1 when it began a frame), and the open DATA frame before it.
   */
  private reservedAt = 0;
  private reservedJoinLength = -1;
  private reservedOpenAt = -1;
  private reservedOpenStream = 0;
  /** Full slabs the writer moved past since the last `takeRetired`: free once their bytes are written. */
  private retired: Uint8Array[] = [];

  /**
   * `allocate` makes the slabs frames are written into; Node's transport passes one that
   * skips zeroing (a fresh zeroed 64 KiB buffer costs ~9 µs, several messages' worth).
   */
  constructor(private readonly allocate: SlabAllocator = zeroedSlab) {
    this.slab = allocate(initialSlabSize);
  }

  /** Bytes written since the last `take()`. */
  get pendingBytes(): number {
    return this.queued + this.pos - this.start;
  }

  /**
   * The encoded frames since the last call, in order, as one or more chunks (empty
   * when nothing was written). The caller owns them; the writer never touches them again.
   */
  take(): Uint8Array[] {
    this.openDataAt = -1;
    this.cutSlab();
    const chunks = this.chunks;
    this.chunks = [];
    this.queued = 0;
    return chunks;
  }

  /**
   * The full-size slabs (maxSlabBytes) whose every byte went into chunks returned by
   * `take()` so far: once the socket has written those chunks, the allocator may hand
   * them out again. A busy connection fills a 64 KiB slab every ~60 streamed messages;
   * reusing them avoids allocation that, as V8 external memory, drives frequent full
   * collections.
   */
  takeRetired(): Uint8Array[] {
    if (this.retired.length === 0) return noSlabs;
    const retired = this.retired;
    this.retired = [];
    return retired;
  }

  /**
   * DATA: `data.length` (plus padding) must fit the peer's max frame size and windows.
   * Unpadded data may join the previous DATA frame of the same stream when the two fit
   * in `maxFrameSize` (the peer's SETTINGS_MAX_FRAME_SIZE; 0 keeps frames apart). With
   * `copy`, `data` is copied whatever its size: the caller reuses its memory.
   */
  data(streamId: number, data: Uint8Array, endStream: boolean, padLength = 0, maxFrameSize = 0, copy = false): void {
    const small = copy || data.length < copyLimit;
    if (padLength === 0 && maxFrameSize > 0 && data.length > 0 && small && this.joinData(streamId, data, endStream, maxFrameSize)) return;
    const flags = (endStream ? FrameFlag.END_STREAM : 0) | (padLength > 0 ? FrameFlag.PADDED : 0);
    const length = data.length + (padLength > 0 ? padLength + 1 : 0);
    if (small || padLength > 0) {
      let at = this.frame(length, FrameType.DATA, flags, streamId);
      const out = this.slab;
      if (padLength > 0) out[at++] = padLength;
      out.set(data, at);
      if (padLength > 0) out.fill(0, at + data.length, at + data.length + padLength);
      else if (!endStream) {
        this.openDataAt = at - frameHeaderLength;
        this.openDataStream = streamId;
      }
      return;
    }
    const at = this.reserve(frameHeaderLength);
    writeHeaderAt(this.slab, at, length, FrameType.DATA, flags, streamId);
    this.cutSlab();
    this.chunks.push(data);
    this.queued += data.length;
  }

  /** The memory reserveData's offsets refer to; read it after each reserveData. */
  get buffer(): Uint8Array {
    return this.slab;
  }

  /**
   * DATA whose `length` payload bytes the caller writes in place: their offset in
   * `buffer`. The caller writes every one of them before any other frame, or takes
   * them back at once with releaseData. Like data(), it may join the stream's open
   * DATA frame within `maxFrameSize`.
   */
  reserveData(streamId: number, length: number, maxFrameSize: number): number {
    const old = this.extendOpenData(streamId, length, maxFrameSize);
    if (old >= 0) {
      this.reservedAt = this.pos;
      this.reservedJoinLength = old;
      this.pos += length;
      return this.reservedAt;
    }
    const slab = this.slab;
    this.reservedOpenStream = this.openDataStream;
    const payloadAt = this.frame(length, FrameType.DATA, 0, streamId);
    // A new slab left the open frame behind, final (cutSlab closed it).
    this.reservedOpenAt = this.slab === slab ? this.openDataAt : -1;
    this.reservedAt = payloadAt - frameHeaderLength;
    this.reservedJoinLength = -1;
    this.openDataAt = this.reservedAt;
    this.openDataStream = streamId;
    return payloadAt;
  }

  /** Takes back the last reserveData, when nothing was written after it. */
  releaseData(): void {
    if (this.reservedJoinLength >= 0) {
      writeUint24(this.slab, this.openDataAt, this.reservedJoinLength);
    } else {
      this.openDataAt = this.reservedOpenAt;
      this.openDataStream = this.reservedOpenStream;
    }
    this.pos = this.reservedAt;
  }

  /** Appends `data` to the open DATA frame of `streamId` if it is last in the slab and has room. */
  private joinData(streamId: number, data: Uint8Array, endStream: boolean, maxFrameSize: number): boolean {
    const at = this.openDataAt;
    if (this.extendOpenData(streamId, data.length, maxFrameSize) < 0) return false;
    this.slab.set(data, this.pos);
    this.pos += data.length;
    if (endStream) {
      this.slab[at + 4] = this.slab[at + 4]! | FrameFlag.END_STREAM;
      this.openDataAt = -1;
    }
    return true;
  }

  /**
   * Lengthens the open DATA frame of `streamId` by `length` bytes (the caller appends
   * them at `pos`) when the frame ends where the slab does and both fit; returns the
   * frame's old length, or -1 when it cannot.
   */
  private extendOpenData(streamId: number, length: number, maxFrameSize: number): number {
    const at = this.openDataAt;
    if (at < 0 || this.openDataStream !== streamId || this.pos + length > this.slab.length) return -1;
    const out = this.slab;
    const old = (out[at]! << 16) | (out[at + 1]! << 8) | out[at + 2]!;
    // The frame must end where the slab does: nothing was written after it.
    if (at + frameHeaderLength + old !== this.pos || old + length > maxFrameSize) return -1;
    writeUint24(out, at, old + length);
    return old;
  }

  /**
   * A header block as HEADERS plus as many CONTINUATION frames as `maxFrameSize`
   * requires (RFC 9113 §6.10); END_HEADERS goes on the last of them.
   */
  headers(streamId: number, block: Uint8Array, endStream: boolean, maxFrameSize: number, priority?: Priority): void {
    const priorityBytes = priority === undefined ? 0 : 5;
    const firstLength = Math.min(block.length, maxFrameSize - priorityBytes);
    const last = firstLength === block.length;
    const flags = (endStream ? FrameFlag.END_STREAM : 0) | (last ? FrameFlag.END_HEADERS : 0) | (priority === undefined ? 0 : FrameFlag.PRIORITY);
    let at = this.frame(priorityBytes + firstLength, FrameType.HEADERS, flags, streamId);
    if (priority !== undefined) {
      writePriority(this.slab, at, priority);
      at += 5;
    }
    this.slab.set(block.subarray(0, firstLength), at);
    for (let offset = firstLength; offset < block.length; offset += maxFrameSize) {
      const end = Math.min(block.length, offset + maxFrameSize);
      this.continuation(streamId, block.subarray(offset, end), end === block.length);
    }
  }

  continuation(streamId: number, fragment: Uint8Array, endHeaders: boolean): void {
    const at = this.frame(fragment.length, FrameType.CONTINUATION, endHeaders ? FrameFlag.END_HEADERS : 0, streamId);
    this.slab.set(fragment, at);
  }

  priority(streamId: number, priority: Priority): void {
    const at = this.frame(5, FrameType.PRIORITY, 0, streamId);
    writePriority(this.slab, at, priority);
  }

  rstStream(streamId: number, errorCode: number): void {
    const at = this.frame(4, FrameType.RST_STREAM, 0, streamId);
    writeUint32(this.slab, at, errorCode);
  }

  settings(settings: readonly Setting[]): void {
    let at = this.frame(6 * settings.length, FrameType.SETTINGS, 0, 0);
    const out = this.slab;
    for (const { id, value } of settings) {
      out[at] = id >>> 8;
      out[at + 1] = id & 0xff;
      writeUint32(out, at + 2, value);
      at += 6;
    }
  }

  settingsAck(): void {
    this.frame(0, FrameType.SETTINGS, FrameFlag.ACK, 0);
  }

  pushPromise(streamId: number, promisedStreamId: number, block: Uint8Array): void {
    const at = this.frame(4 + block.length, FrameType.PUSH_PROMISE, FrameFlag.END_HEADERS, streamId);
    writeUint32(this.slab, at, promisedStreamId & 0x7fffffff);
    this.slab.set(block, at + 4);
  }

  /** `opaqueData` is exactly 8 bytes. */
  ping(opaqueData: Uint8Array, ack: boolean): void {
    const at = this.frame(8, FrameType.PING, ack ? FrameFlag.ACK : 0, 0);
    this.slab.set(opaqueData.subarray(0, 8), at);
  }

  goaway(lastStreamId: number, errorCode: number, debugData: Uint8Array = emptyBytes): void {
    const at = this.frame(8 + debugData.length, FrameType.GOAWAY, 0, 0);
    writeUint32(this.slab, at, lastStreamId & 0x7fffffff);
    writeUint32(this.slab, at + 4, errorCode);
    this.slab.set(debugData, at + 8);
  }

  windowUpdate(streamId: number, increment: number): void {
    const at = this.frame(4, FrameType.WINDOW_UPDATE, 0, streamId);
    writeUint32(this.slab, at, increment & 0x7fffffff);
  }

  /** Any frame, as given: for extension frames and for tests that must send broken ones. */
  raw(type: number, flags: number, streamId: number, payload: Uint8Array): void {
    const at = this.frame(payload.length, type, flags, streamId);
    this.slab.set(payload, at);
  }

  /** Raw bytes with no framing (the client connection preface). */
  bytes(data: Uint8Array): void {
    const at = this.reserve(data.length);
    this.slab.set(data, at);
  }

  /**
   * Room for `n` bytes at the end of `slab`; returns where they start. It may replace
   * `slab`, so read `this.slab` only after calling it.
   */
  private reserve(n: number): number {
    if (this.pos + n > this.slab.length) {
      this.cutSlab();
      if (this.slab.length === maxSlabBytes) this.retired.push(this.slab);
      this.slab = this.allocate(Math.max(Math.min(this.slab.length * 2, maxSlabBytes), n));
      this.start = 0;
      this.pos = 0;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** Reserves a frame header plus `length` payload bytes; returns where the payload begins. */
  private frame(length: number, type: number, flags: number, streamId: number): number {
    const at = this.reserve(frameHeaderLength + length);
    return writeHeaderAt(this.slab, at, length, type, flags, streamId);
  }

  /** Moves the slab bytes written so far into `chunks`, as a view. */
  private cutSlab(): void {
    // Bytes handed to `chunks` are final.
    this.openDataAt = -1;
    if (this.pos > this.start) {
      this.chunks.push(this.slab.subarray(this.start, this.pos));
      this.queued += this.pos - this.start;
      this.start = this.pos;
    }
  }
}

function writeHeaderAt(out: Uint8Array, at: number, length: number, type: number, flags: number, streamId: number): number {
  writeUint24(out, at, length);
  out[at + 3] = type;
  out[at + 4] = flags;
  writeUint32(out, at + 5, streamId & 0x7fffffff);
  return at + frameHeaderLength;
}

function writeUint24(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 16) & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = value & 0xff;
}

function writeUint32(out: Uint8Array, at: number, value: number): void {
  out[at] = (value >>> 24) & 0xff;
  out[at + 1] = (value >>> 16) & 0xff;
  out[at + 2] = (value >>> 8) & 0xff;
  out[at + 3] = value & 0xff;
}

function writePriority(out: Uint8Array, at: number, priority: Priority): void {
  writeUint32(out, at, (priority.dependency & 0x7fffffff) + (priority.exclusive ? 0x80000000 : 0));
  out[at + 4] = priority.weight - 1;
}

const emptyBytes = new Uint8Array(0);
