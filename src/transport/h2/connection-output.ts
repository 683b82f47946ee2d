/**
 * The outgoing side of one HTTP/2 connection: frames are encoded into one FrameWriter
 * and leave in a single socket write per socket read, or per tick. DATA waits while the
 * socket is congested (its streams are resumed on drain); control frames still go, but a
 * peer that makes us owe too many while not reading is cut off by the connection. This
 * file decides no protocol question: the connection and its streams say what to write.
 */
import type { Socket } from "node:net";
import { FrameWriter } from "../../protocol/http2/frame-writer.js";
import { returnWriteSlabs, takeWriteSlab } from "../node-alloc.js";
import type { H2Limits } from "./options.js";
import type { H2Stream } from "./stream.js";

/** What the output needs of its connection. */
export interface OutputOwner {
  /** No more frames are written (connection error, socket gone or handed off). */
  readonly dead: boolean;
  /** The connection send window: queued DATA waits while it is spent. */
  readonly flow: { readonly sendWindow: number };
  /** The open streams, whose writers may wait for room. */
  readonly streams: ReadonlyMap<number, H2Stream>;
}

export class ConnectionOutput {
  readonly writer = new FrameWriter(takeWriteSlab);
  /** Streams with DATA waiting for window or for the socket. */
  readonly blocked = new Set<H2Stream>();
  /** A socket read is being handled: its frames leave together when it ends. */
  private inRead = false;
  private flushQueued = false;
  /** Control frames (ACKs, resets) queued while the socket is backed up. */
  private pendingControlFrames = 0;

  constructor(private readonly socket: Socket, private readonly limits: H2Limits, private readonly conn: OutputOwner) {
    this.flush = this.flush.bind(this);
    this.flushAfterMicrotasks = this.flushAfterMicrotasks.bind(this);
    this.onSocketDrain = this.onSocketDrain.bind(this);
  }

  /** True while the socket holds more than its high-water mark: DATA waits, control frames still go. */
  get congested(): boolean {
    return this.socket.writableLength >= this.limits.socketHighWaterMark;
  }

  /** Frames written outside a socket read go out at the end of the current microtask. */
  scheduleFlush(): void {
    if (this.inRead || this.flushQueued || this.conn.dead) return;
    this.flushQueued = true;
    // nextTick runs once the microtask queue is empty: every frame a burst of promise-driven
    // work produces (a server stream's messages, say) leaves in one socket write.
    process.nextTick(this.flush);
  }

  /** Writes everything encoded so far to the socket now, in one write (or one corked batch). */
  flush(): void {
    this.flushQueued = false;
    const chunks = this.writer.take();
    const retired = this.writer.takeRetired();
    if (chunks.length === 0 || this.socket.destroyed) return;
    // Writes complete in order: once the last is written, the slabs the writer filled
    // and left are free for it again.
    const last = chunks.length - 1;
    const done = retired.length === 0 ? undefined : () => returnWriteSlabs(retired);
    if (last === 0) {
      this.socket.write(chunks[0]!, done);
      return;
    }
    this.socket.cork();
    for (let i = 0; i < last; i++) this.socket.write(chunks[i]!);
    this.socket.write(chunks[last]!, done);
    this.socket.uncork();
  }

  /** A socket read starts: frames it produces wait for `endRead` instead of a tick. */
  beginRead(): void {
    this.inRead = true;
  }

  /**
   * The socket read is handled. What it produced (window updates, ACKs) leaves with what
   * the handlers it woke answer in their promise jobs: a tick queued from a microtask runs
   * once the microtask queue is empty, so a read costs one socket write, not two.
   */
  endRead(): void {
    this.inRead = false;
    if (this.conn.dead || this.flushQueued || this.writer.pendingBytes === 0) return;
    this.flushQueued = true;
    queueMicrotask(this.flushAfterMicrotasks);
  }

  private flushAfterMicrotasks(): void {
    process.nextTick(this.flush);
  }

  /** Drops frames not yet written: the socket is no longer ours to write to. */
  discard(): void {
    this.writer.take();
  }

  /**
   * Counts a control frame we owe the peer (an ACK, a reset). False once a peer that
   * does not read has made us owe more than maxPendingControlFrames: the caller ends
   * the connection.
   */
  oweControlFrame(): boolean {
    if (!this.congested) {
      this.pendingControlFrames = 0;
      return true;
    }
    return ++this.pendingControlFrames <= this.limits.maxPendingControlFrames;
  }

  /** The socket's "drain" listener (bound): the peer reads again. */
  onSocketDrain(): void {
    this.pendingControlFrames = 0;
    this.resumeBlocked();
    this.flush();
  }

  /** Lets streams with queued DATA send what the windows allow now, and wakes their writers. */
  resumeBlocked(): void {
    if (this.blocked.size === 0) return;
    const flow = this.conn.flow;
    for (const stream of this.blocked) {
      if (flow.sendWindow <= 0 || this.congested) break;
      if (stream.flushQueued()) this.blocked.delete(stream);
    }
    for (const stream of this.conn.streams.values()) stream.notifyDrainIfNeeded();
  }
}
