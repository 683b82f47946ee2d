/**
 * Connection-level flow control (RFC 9113 §5.2, §6.9): the window the peer gives us for
 * DATA, the window we give it, and the received bytes we return as WINDOW_UPDATE once
 * they are consumed. Stream windows live on the streams; this file only counts bytes and
 * writes WINDOW_UPDATE on stream 0, and reports violations for the connection to end it.
 */
import { defaultInitialWindowSize, maxWindowSize } from "../../protocol/http2/constants.js";
import type { ConnectionOutput } from "./connection-output.js";

export class ConnectionFlowControl {
  /** What we may still send on the connection; streams spend it as they send DATA. */
  sendWindow = defaultInitialWindowSize;
  /** Received bytes held for paused readers, across all streams. */
  bufferedBytes = 0;
  /** What the peer may still send on the connection. */
  private recvWindow = defaultInitialWindowSize;
  /** Consumed bytes not yet returned with WINDOW_UPDATE. */
  private recvCredit = 0;

  /** `windowSize`: the receive window we keep open (limits.connectionWindowSize). */
  constructor(private readonly output: ConnectionOutput, private readonly windowSize: number) {}

  /** With our preface: opens the receive window beyond the RFC default, if we keep a larger one. */
  openReceiveWindow(): void {
    const extra = this.windowSize - defaultInitialWindowSize;
    if (extra <= 0) return;
    this.output.writer.windowUpdate(0, extra);
    this.recvWindow += extra;
  }

  /** DATA counting `length` bytes against the window arrived; returns the connection error when it overruns it. */
  receive(length: number): string | undefined {
    if (length > this.recvWindow) return `DATA of ${length} bytes exceeds the connection window of ${this.recvWindow}`;
    this.recvWindow -= length;
    return undefined;
  }

  /** Returns `n` received bytes to the peer as connection window, in updates of half the window. */
  credit(n: number): void {
    this.recvCredit += n;
    if (this.recvCredit >= this.windowSize >>> 1) {
      this.output.writer.windowUpdate(0, this.recvCredit);
      this.recvWindow += this.recvCredit;
      this.recvCredit = 0;
      this.output.scheduleFlush();
    }
  }

  /** WINDOW_UPDATE on stream 0; false when the window passes 2^31-1 (a connection error). */
  grow(increment: number): boolean {
    this.sendWindow += increment;
    return this.sendWindow <= maxWindowSize;
  }
}
