/**
 * The incoming side of one HTTP/2 connection: socket reads to frames, in order. It
 * checks the client preface (RFC 9113 §3.4) and the rules on frame order that hold for
 * the whole connection (SETTINGS first; nothing inside a header block, §6.10), then
 * hands each frame to its handler: frames on streams to the StreamFrameRouter, the
 * connection's own frames to the connection. What a frame means is decided there.
 */
import { performance } from "node:perf_hooks";
import { Http2ErrorCode, connectionPreface } from "../../protocol/http2/constants.js";
import type { Frame, FrameError } from "../../protocol/http2/frame.js";
import { FrameReader } from "../../protocol/http2/frame-reader.js";
import { uninitializedBytes } from "../node-alloc.js";
import type { ConnectionOutput } from "./connection-output.js";
import type { FloodKind } from "./flood-guard.js";
import type { HeaderBlockAssembler } from "./header-block.js";
import type { StreamFrameRouter } from "./stream-frames.js";

/** What the input needs of its connection. */
export interface InputOwner {
  /** No more frames are read (connection error, socket gone or handed off). */
  readonly dead: boolean;
  /** When bytes last arrived (performance.now()). */
  lastReadAt: number;
  /** The client's preface arrived: a server that deferred its own sends it now. */
  sendPreface(): void;
  /** The bytes read do not start with the client preface; `received` is all of them. */
  onBadPreface(received: Uint8Array): void;
  /** Flood accounting; false once the connection is being ended for it. */
  allow(kind: FloodKind): boolean;
  connectionError(code: number, message: string): void;
  streamError(streamId: number, code: number, message: string): void;
  onSettings(frame: Extract<Frame, { type: "SETTINGS" }>): void;
  onPing(frame: Extract<Frame, { type: "PING" }>): void;
  onGoaway(frame: Extract<Frame, { type: "GOAWAY" }>): void;
  onWindowUpdate(frame: Extract<Frame, { type: "WINDOW_UPDATE" }>): void;
}

type ConnectionFrame = Exclude<Frame, { type: "error" }>;

/** Frames split across socket reads are joined in memory the reader fills before reading (FrameReader). */
function joinBuffer(bytes: number): Uint8Array {
  // Up to 64 bytes (a frame header, say) V8 keeps a typed array on its own heap: cheaper still.
  return bytes <= 64 ? new Uint8Array(bytes) : uninitializedBytes(bytes);
}

export class ConnectionInput {
  private readonly reader: FrameReader;
  /** Once a header block has started, only its CONTINUATION frames may follow (RFC 9113 §6.10). */
  private readonly headerBlock: HeaderBlockAssembler;
  /** Server side: the client's preface has not all arrived yet. */
  private prefacePending: boolean;
  private prefaceBytes = 0;
  private settingsReceived = false;

  constructor(
    private readonly conn: InputOwner,
    private readonly output: ConnectionOutput,
    private readonly streamFrames: StreamFrameRouter,
    isServer: boolean,
    maxFrameSize: number,
  ) {
    this.reader = new FrameReader(maxFrameSize, joinBuffer);
    this.headerBlock = streamFrames.headerBlock;
    this.prefacePending = isServer;
    this.onSocketData = this.onSocketData.bind(this);
  }

  /** The socket's "data" listener (bound): every frame it completes is handled before its output leaves. */
  onSocketData(chunk: Buffer): void {
    const conn = this.conn;
    if (conn.dead) return;
    conn.lastReadAt = performance.now();
    this.output.beginRead();
    try {
      // A plain Uint8Array view: the many subarrays taken of it (frames, messages) are
      // then cheap typed-array views rather than Buffer objects.
      let data = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (this.prefacePending) {
        const rest = this.readPreface(data);
        if (rest === undefined) return;
        data = rest;
      }
      const reader = this.reader;
      reader.push(data);
      for (let frame = reader.next(); frame !== undefined && !conn.dead; frame = reader.next()) {
        this.handleFrame(frame);
      }
    } finally {
      this.output.endRead();
    }
  }

  /** Checks the client magic (RFC 9113 §3.4); returns what follows it, or undefined. */
  private readPreface(data: Uint8Array): Uint8Array | undefined {
    const need = connectionPreface.length - this.prefaceBytes;
    const n = Math.min(need, data.length);
    for (let i = 0; i < n; i++) {
      if (data[i] !== connectionPreface[this.prefaceBytes + i]) {
        const received = new Uint8Array(this.prefaceBytes + data.length);
        received.set(connectionPreface.subarray(0, this.prefaceBytes));
        received.set(data, this.prefaceBytes);
        this.conn.onBadPreface(received);
        return undefined;
      }
    }
    this.prefaceBytes += n;
    if (this.prefaceBytes < connectionPreface.length) return undefined;
    this.prefacePending = false;
    this.conn.sendPreface();
    return data.subarray(n);
  }

  private handleFrame(frame: Frame | FrameError): void {
    const conn = this.conn;
    if (frame.type === "error") {
      if (frame.scope === "connection") conn.connectionError(frame.code, frame.message);
      else conn.streamError(frame.streamId, frame.code, frame.message);
      return;
    }
    const headerBlock = this.headerBlock;
    if (headerBlock.inProgress && frame.type !== "CONTINUATION") {
      conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `${frame.type} frame inside a header block of stream ${headerBlock.streamId}`);
      return;
    }
    if (!this.settingsReceived) {
      if (frame.type !== "SETTINGS" || frame.ack) {
        conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `the first frame must be SETTINGS, got ${frame.type}`);
        return;
      }
      this.settingsReceived = true;
    }
    this.dispatch(frame);
  }

  private dispatch(frame: ConnectionFrame): void {
    switch (frame.type) {
      case "DATA":
        return this.streamFrames.onData(frame);
      case "HEADERS":
        return this.streamFrames.onHeaders(frame);
      case "CONTINUATION":
        return this.streamFrames.onContinuation(frame);
      case "PRIORITY":
        // Accepted and ignored (RFC 9113 §5.3.2), but not for free.
        this.conn.allow("controlFrame");
        return;
      case "RST_STREAM":
        return this.streamFrames.onRstStream(frame);
      case "SETTINGS":
        return this.conn.onSettings(frame);
      case "PUSH_PROMISE":
        // We never enable push; a client must not send it at all (RFC 9113 §8.4).
        return this.conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE received but push is disabled");
      case "PING":
        return this.conn.onPing(frame);
      case "GOAWAY":
        return this.conn.onGoaway(frame);
      case "WINDOW_UPDATE":
        return this.conn.onWindowUpdate(frame);
      case "UNKNOWN":
        // Extension frames are ignored (RFC 9113 §5.5).
        this.conn.allow("controlFrame");
        return;
      default:
        frame satisfies never;
    }
  }
}
