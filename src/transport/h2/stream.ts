/**
 * One HTTP/2 stream of our own transport, shared by the server and client sides: its
 * RFC 9113 §5.1 state, flow-control windows in both directions, the queue of DATA
 * waiting for window, and the buffer of received DATA held while the reader is paused.
 * The connection routes frames here after the connection-level checks; role-specific
 * subclasses (server.ts, client.ts) turn the events into their sink calls.
 */
import { Http2ErrorCode } from "../../protocol/http2/constants.js";
import type { DecodedHeaders } from "../../protocol/http2/hpack-decoder.js";
import type { Headers } from "../types.js";
import { pooledCopy } from "../node-alloc.js";
import type { H2Connection } from "./connection.js";

/** RFC 9113 §5.1 (no push, so never reserved). Queued client streams are "idle" until opened. */
export type StreamState = "idle" | "open" | "half-closed-local" | "half-closed-remote" | "closed";

const noBytes = new Uint8Array(0);
const noChunks: Uint8Array[] = [];

export abstract class H2Stream {
  state: StreamState;
  sendWindow: number;
  recvWindow: number;
  /** content-length of the incoming message, checked against the DATA received (RFC 9113 §8.1.1). */
  expectedLength: number | undefined;
  /** Set once the stream was reset (by either side) or its connection failed. */
  aborted = false;
  protected receivedLength = 0;
  /** Received bytes consumed by the reader but not yet returned as stream window. */
  private recvCredit = 0;

  // ---- outgoing: DATA waiting for flow-control window or for the socket ----
  /** Shared empty until a write has to wait: most streams never queue. */
  private outChunks: Uint8Array[] = noChunks;
  private outBytes = 0;
  /** END_STREAM goes out once queued data is sent: with `outTrailers` as HEADERS, else on DATA. */
  private endQueued = false;
  private outTrailers: Headers | undefined;
  private needDrain = false;
  /** Bytes of the last in-place reservation, returned to the windows if it is released. */
  private reservedBytes = 0;

  // ---- incoming: DATA held while paused ----
  private paused = false;
  private inChunks: Uint8Array[] | undefined;
  private inBytes = 0;
  /** Bytes in `inChunks` whose connection window has not been returned yet. */
  private uncreditedConnectionBytes = 0;
  /** The peer's END_STREAM (and trailers) waiting behind buffered data. */
  private inEnded = false;
  private inTrailers: DecodedHeaders | undefined;
  private resumeQueued = false;
  /** The reader has seen the end of the incoming side. */
  protected endDelivered = false;

  constructor(readonly conn: H2Connection, public id: number, state: StreamState) {
    this.state = state;
    this.sendWindow = conn.peerSettings.initialWindowSize;
    this.recvWindow = conn.limits.initialWindowSize;
  }

  get localEnded(): boolean {
    return this.state === "half-closed-local" || this.state === "closed";
  }

  get remoteEnded(): boolean {
    return this.state === "half-closed-remote" || this.state === "closed";
  }

  /** Queued outgoing bytes (for tests and the connection's scheduler). */
  get queuedBytes(): number {
    return this.outBytes;
  }

  // ---- role hooks ----

  /** A header block for this stream (not the one that opened it on the server). */
  abstract onHeaderBlock(headers: DecodedHeaders, endStream: boolean): void;
  protected abstract deliverData(chunk: Uint8Array): void;
  /** The peer's END_STREAM, after every byte before it; `trailers` when it came on HEADERS. */
  protected abstract deliverEnd(trailers: DecodedHeaders | undefined): void;
  protected abstract deliverDrain(): void;
  /** The stream closed normally: both sides sent END_STREAM. */
  protected abstract onClosed(): void;
  /** The stream was reset (`byPeer` or by us) or its connection failed (`error`). */
  protected abstract onAborted(code: number, byPeer: boolean, reason: string, error: Error | undefined): void;

  // ---- sending ----

  /** HEADERS (plus CONTINUATION); END_STREAM with `endStream`. Not flow-controlled. */
  protected sendHeaderBlock(headers: Headers, endStream: boolean): void {
    this.conn.writeHeaders(this.id, headers, endStream);
    if (endStream) this.markLocalEnded();
  }

  /**
   * Queues and sends what windows allow; false when the caller should wait for a drain.
   * `transient` data is memory the caller reuses once this returns: what is not copied
   * into the write batch now is copied into the queue.
   */
  protected writeData(data: Uint8Array, transient = false): boolean {
    if (this.localEnded || this.endQueued || this.aborted) return true;
    if (data.length === 0) return true;
    if (this.outBytes === 0 && this.state !== "idle" && !this.conn.output.congested) {
      const sent = this.sendNow(data, transient);
      if (sent === data.length) return true;
      data = data.subarray(sent);
    }
    if (transient) data = pooledCopy(data);
    if (this.outChunks === noChunks) this.outChunks = [];
    this.outChunks.push(data);
    this.outBytes += data.length;
    if (this.state !== "idle") this.conn.output.blocked.add(this);
    if (this.outBytes < this.conn.limits.streamHighWaterMark && !this.conn.output.congested) return true;
    this.needDrain = true;
    return false;
  }

  /**
   * DATA the caller writes in place (FrameTarget): room for `bytes` in the connection's
   * write batch when they can go out now and whole (nothing queued ahead, both windows
   * and the peer's frame size allow it, the socket is not congested), as their offset
   * in `inPlaceBuffer`; else -1, and the caller writes them with writeData.
   */
  protected reserveInPlace(bytes: number): number {
    const conn = this.conn;
    const flow = conn.flow;
    if (this.outBytes !== 0 || this.state === "idle" || this.localEnded || this.endQueued || this.aborted || conn.output.congested) return -1;
    if (bytes > this.sendWindow || bytes > flow.sendWindow || bytes > conn.peerSettings.maxFrameSize) return -1;
    const at = conn.reserveDataFrame(this.id, bytes);
    this.sendWindow -= bytes;
    flow.sendWindow -= bytes;
    this.reservedBytes = bytes;
    conn.output.scheduleFlush();
    return at;
  }

  protected get inPlaceBuffer(): Uint8Array {
    return this.conn.output.writer.buffer;
  }

  /** Takes back the last reservation, written over by nothing since. */
  protected releaseInPlace(): void {
    this.conn.output.writer.releaseData();
    this.sendWindow += this.reservedBytes;
    this.conn.flow.sendWindow += this.reservedBytes;
    this.reservedBytes = 0;
  }

  /** Ends the outgoing side after queued data: with trailers (HEADERS) or an END_STREAM DATA frame. */
  protected endData(trailers: Headers | undefined): void {
    if (this.localEnded || this.endQueued || this.aborted) return;
    this.endQueued = true;
    this.outTrailers = trailers;
    if (this.state === "idle") return;
    if (this.outBytes === 0) this.flushQueued();
    else this.conn.output.blocked.add(this);
  }

  /** Sends DATA within both windows and the peer's frame size; returns the bytes sent. */
  private sendNow(data: Uint8Array, copy: boolean): number {
    const conn = this.conn;
    const flow = conn.flow;
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(data.length - offset, this.sendWindow, flow.sendWindow, conn.peerSettings.maxFrameSize);
      if (n <= 0) break;
      conn.writeDataFrame(this.id, offset === 0 && n === data.length ? data : data.subarray(offset, offset + n), false, copy);
      this.sendWindow -= n;
      flow.sendWindow -= n;
      offset += n;
    }
    if (offset > 0) conn.output.scheduleFlush();
    return offset;
  }

  /**
   * Sends queued data as far as windows and the socket allow, then the queued end.
   * Called by the connection when a window opens or the socket drains. Returns true
   * when nothing is left queued.
   */
  flushQueued(): boolean {
    if (this.aborted || this.state === "idle") return this.aborted;
    const conn = this.conn;
    const { flow, output } = conn;
    while (this.outBytes > 0) {
      if (output.congested) return false;
      const chunk = this.outChunks[0]!;
      const n = Math.min(chunk.length, this.sendWindow, flow.sendWindow, conn.peerSettings.maxFrameSize);
      if (n <= 0) return false;
      const piece = n === chunk.length ? chunk : chunk.subarray(0, n);
      const last = n === chunk.length && this.outChunks.length === 1;
      const endHere = last && this.endQueued && this.outTrailers === undefined;
      conn.writeDataFrame(this.id, piece, endHere);
      this.sendWindow -= n;
      flow.sendWindow -= n;
      this.outBytes -= n;
      if (n === chunk.length) this.outChunks.shift();
      else this.outChunks[0] = chunk.subarray(n);
      output.scheduleFlush();
      if (endHere) {
        this.endQueued = false;
        this.markLocalEnded();
        return true;
      }
    }
    if (this.endQueued) {
      this.endQueued = false;
      const trailers = this.outTrailers;
      this.outTrailers = undefined;
      if (trailers !== undefined) {
        this.sendHeaderBlock(trailers, true);
      } else {
        conn.writeDataFrame(this.id, noBytes, true);
        output.scheduleFlush();
        this.markLocalEnded();
      }
    }
    return true;
  }

  /** Tells a writer that waited for room that there is room now. */
  notifyDrainIfNeeded(): void {
    if (!this.needDrain || this.aborted) return;
    if (this.outBytes >= this.conn.limits.streamHighWaterMark || this.conn.output.congested) return;
    this.needDrain = false;
    this.deliverDrain();
  }

  /** The peer changed SETTINGS_INITIAL_WINDOW_SIZE by `delta`; false when that overflows. */
  adjustSendWindow(delta: number): boolean {
    this.sendWindow += delta;
    return this.sendWindow <= 2_147_483_647;
  }

  // ---- receiving ----

  /** DATA that passed the connection's checks (state, windows). */
  receiveData(data: Uint8Array, flowControlledLength: number, endStream: boolean): void {
    const conn = this.conn;
    this.recvWindow -= flowControlledLength;
    const padding = flowControlledLength - data.length;
    if (padding > 0) {
      conn.flow.credit(padding);
      this.creditStream(padding);
    }
    this.receivedLength += data.length;
    const expected = this.expectedLength;
    if (expected !== undefined && (this.receivedLength > expected || (endStream && this.receivedLength !== expected))) {
      conn.flow.credit(data.length);
      conn.streamError(this.id, Http2ErrorCode.PROTOCOL_ERROR, `received ${this.receivedLength} bytes of DATA but content-length is ${expected}`);
      return;
    }
    const n = data.length;
    if (n > 0) {
      if (this.paused || this.inChunks !== undefined) {
        (this.inChunks ??= []).push(data);
        this.inBytes += n;
        if (conn.flow.bufferedBytes + n <= conn.limits.maxBufferedBytes) conn.flow.credit(n);
        else this.uncreditedConnectionBytes += n;
        conn.flow.bufferedBytes += n;
      } else {
        conn.flow.credit(n);
        this.deliverData(data);
        if (this.aborted) return;
        this.creditStream(n);
      }
    }
    if (endStream) this.receiveEnd(undefined);
  }

  /** The peer ended its side (END_STREAM on DATA, or trailers). */
  protected receiveEnd(trailers: DecodedHeaders | undefined): void {
    this.markRemoteEnded();
    if (this.inChunks !== undefined) {
      this.inEnded = true;
      this.inTrailers = trailers;
      return;
    }
    this.finishIncoming(trailers);
  }

  protected finishIncoming(trailers: DecodedHeaders | undefined): void {
    if (this.endDelivered || this.aborted) return;
    this.endDelivered = true;
    this.deliverEnd(trailers);
    if (this.state === "closed" && !this.aborted) this.onClosed();
  }

  /** Returns consumed bytes as stream window, in WINDOW_UPDATEs of at least half the window. */
  private creditStream(n: number): void {
    if (this.remoteEnded) return;
    this.recvCredit += n;
    const initial = this.conn.limits.initialWindowSize;
    if (this.recvCredit >= initial >>> 1 || this.recvWindow + this.recvCredit <= 0) {
      this.conn.output.writer.windowUpdate(this.id, this.recvCredit);
      this.recvWindow += this.recvCredit;
      this.recvCredit = 0;
      this.conn.output.scheduleFlush();
    }
  }

  /** Stops delivering DATA; the peer is held back by the stream window. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.inChunks === undefined || this.resumeQueued) return;
    // Deliver later: resume() is often called from inside the reader's own callbacks.
    this.resumeQueued = true;
    queueMicrotask(() => {
      this.resumeQueued = false;
      this.drainInput();
    });
  }

  private drainInput(): void {
    const conn = this.conn;
    while (!this.paused && !this.aborted && this.inChunks !== undefined && this.inChunks.length > 0) {
      const chunk = this.inChunks.shift()!;
      const n = chunk.length;
      this.inBytes -= n;
      conn.flow.bufferedBytes -= n;
      const owed = Math.min(n, this.uncreditedConnectionBytes);
      this.uncreditedConnectionBytes -= owed;
      if (owed > 0) conn.flow.credit(owed);
      this.deliverData(chunk);
      if (this.aborted) break;
      this.creditStream(n);
    }
    if (this.inChunks !== undefined && this.inChunks.length === 0 && !this.aborted) {
      this.inChunks = undefined;
      if (this.inEnded) {
        this.inEnded = false;
        const trailers = this.inTrailers;
        this.inTrailers = undefined;
        this.finishIncoming(trailers);
      }
    }
    conn.output.scheduleFlush();
  }

  // ---- state ----

  private markLocalEnded(): void {
    if (this.state === "open") {
      this.state = "half-closed-local";
      this.onLocalEnded();
    } else if (this.state === "half-closed-remote") {
      this.close();
    }
  }

  /** We ended our side while the peer's is open (a server then resets with NO_ERROR). */
  protected onLocalEnded(): void {}

  private markRemoteEnded(): void {
    if (this.state === "open") this.state = "half-closed-remote";
    else if (this.state === "half-closed-local") this.close();
  }

  /** Both sides ended: the stream leaves the connection. */
  private close(): void {
    this.state = "closed";
    this.conn.streamClosed(this, "ended");
    if (this.endDelivered && !this.aborted) this.onClosed();
  }

  /**
   * The stream ends abnormally: reset by the peer, by us, or its connection is gone.
   * Queued output and buffered input are dropped (their window returned).
   */
  abort(code: number, byPeer: boolean, reason: string, error: Error | undefined): void {
    if (this.aborted) return;
    this.aborted = true;
    const wasOpen = this.state !== "closed";
    this.state = "closed";
    this.outChunks = noChunks;
    this.outBytes = 0;
    this.endQueued = false;
    this.conn.output.blocked.delete(this);
    if (this.inChunks !== undefined) {
      this.conn.flow.bufferedBytes -= this.inBytes;
      if (this.uncreditedConnectionBytes > 0) this.conn.flow.credit(this.uncreditedConnectionBytes);
      this.inChunks = undefined;
      this.inBytes = 0;
      this.uncreditedConnectionBytes = 0;
    }
    if (wasOpen) this.conn.streamClosed(this, byPeer ? "reset-remote" : "reset-local");
    this.onAborted(code, byPeer, reason, error);
  }
}
