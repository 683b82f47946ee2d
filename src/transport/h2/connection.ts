/**
 * One HTTP/2 connection of our own transport (RFC 9113 §3–§6), shared by the server
 * and client sides: frame dispatch, SETTINGS and their ACK timeout, PING, GOAWAY,
 * connection-level flow control, the stream table with idle/closed rules, header
 * blocks across CONTINUATION, and the flood protections. Every frame produced while
 * handling one socket read, or in one microtask, leaves in a single socket write.
 * Role-specific behaviour (who opens streams, what a header block means) is in
 * server.ts and client.ts.
 */
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import {
  Http2ErrorCode, SettingsId, connectionPreface, defaultInitialWindowSize, maxWindowSize, minMaxFrameSize,
} from "../../protocol/http2/constants.js";
import type { Frame, FrameError, Setting } from "../../protocol/http2/frame.js";
import { FrameReader } from "../../protocol/http2/frame-reader.js";
import { FrameWriter } from "../../protocol/http2/frame-writer.js";
import { HpackDecoder, type HpackDecodeResult } from "../../protocol/http2/hpack-decoder.js";
import { HpackEncoder } from "../../protocol/http2/hpack-encoder.js";
import type { Headers } from "../types.js";
import type { H2Limits } from "./options.js";
import { FloodGuard, floodMessages, type FloodKind } from "./flood-guard.js";
import { HeaderBlockAssembler } from "./header-block.js";
import { PingStrikes, tooManyPings } from "./ping-strikes.js";
import type { H2Stream } from "./stream.js";

/** How a stream left the table; decides what late frames for it mean (RFC 9113 §5.1). */
export type ClosedHow = "ended" | "reset-local" | "reset-remote";

/** Closed streams remembered, to tell "closed" from "never opened" for late frames. */
const closedMemory = 1024;
const closedHows: readonly ClosedHow[] = ["ended", "reset-local", "reset-remote"];

type ConnectionFrame = Exclude<Frame, { type: "error" }>;

export abstract class H2Connection {
  readonly writer = new FrameWriter();
  readonly streams = new Map<number, H2Stream>();
  /** Streams with DATA waiting for window or for the socket. */
  readonly blocked = new Set<H2Stream>();
  readonly encoder: HpackEncoder;
  protected readonly decoder: HpackDecoder;
  private readonly reader: FrameReader;
  /**
   * The last `closedMemory` closed streams, a ring of ids and how each closed (an index
   * into closedHows): remembering costs no allocation per stream, and only late frames,
   * which are rare, search it.
   */
  private readonly closedIds = new Int32Array(closedMemory);
  private readonly closedHowIndex = new Uint8Array(closedMemory);
  private closedNext = 0;

  // Peer settings (RFC 9113 §6.5.2 initial values).
  peerMaxFrameSize = minMaxFrameSize;
  peerInitialWindowSize = defaultInitialWindowSize;
  peerMaxConcurrentStreams = Infinity;
  peerMaxHeaderListSize = Infinity;

  /** Connection send window. */
  sendWindow = defaultInitialWindowSize;
  /** What the peer may still send on the connection. */
  private recvWindow = defaultInitialWindowSize;
  /** Consumed bytes not yet returned with WINDOW_UPDATE. */
  private recvCredit = 0;
  /** Received bytes held for paused readers. */
  bufferedBytes = 0;

  /** Highest stream id the peer opened. */
  lastPeerStreamId = 0;
  /** Next stream id we open (client: odd). */
  protected nextStreamId: number;
  private readonly headerBlock: HeaderBlockAssembler;
  /** Runs while a header block waits for its CONTINUATION frames. */
  private headerBlockTimer: ReturnType<typeof setTimeout> | undefined;
  private prefacePending: boolean;
  private prefaceBytes = 0;
  private prefaceSent = false;
  private settingsReceived = false;
  private settingsTimer: ReturnType<typeof setTimeout> | undefined;
  private settingsUnacked = 0;

  private inRead = false;
  private flushQueued = false;
  /** Control frames (ACKs, resets) queued while the socket is backed up. */
  private pendingControlFrames = 0;
  private readonly floods: FloodGuard;
  /** Server side: PINGs policed against the permitted keepalive interval. */
  private readonly pingStrikes: PingStrikes | undefined;
  private readonly pingWaiters = new Map<string, () => void>();

  /** GOAWAY sent: the last peer stream we will process (phase two), or 2^31-1 in phase one. */
  goawaySentLastStreamId: number | undefined;
  goawayReceived = false;
  /** When bytes last arrived (performance.now()): the server's keepalive pings a quiet connection. */
  lastReadAt = performance.now();
  /** No more frames are read or written (connection error, socket gone). */
  dead = false;
  /** Why the connection ended, when it failed. */
  error: Error | undefined;
  protected closing = false;

  constructor(readonly socket: Socket, readonly isServer: boolean, readonly limits: H2Limits) {
    this.reader = new FrameReader(limits.maxFrameSize);
    this.encoder = new HpackEncoder({ maxTableSize: limits.encoderTableSize });
    this.decoder = new HpackDecoder({ maxTableSize: limits.headerTableSize, maxHeaderListSize: limits.maxHeaderListSize });
    this.nextStreamId = isServer ? 2 : 1;
    this.prefacePending = isServer;
    this.floods = new FloodGuard(limits);
    this.pingStrikes = isServer ? new PingStrikes(limits.keepaliveMinPingIntervalMs, limits.keepalivePermitWithoutCalls, limits.maxPingStrikes) : undefined;
    this.headerBlock = new HeaderBlockAssembler(2 * limits.maxHeaderListSize + 16_384, limits.maxContinuationFrames);
    this.onSocketData = this.onSocketData.bind(this);
    this.onSocketError = this.onSocketError.bind(this);
    this.onSocketClose = this.onSocketClose.bind(this);
    this.onSocketDrain = this.onSocketDrain.bind(this);
    this.flush = this.flush.bind(this);
  }

  /**
   * Starts reading and sends our preface (client magic, SETTINGS, the connection
   * window). A server that may still hand the connection to HTTP/1.1 defers its preface
   * until the client's has arrived (`deferPreface`).
   */
  protected start(deferPreface = false): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.on("data", this.onSocketData);
    socket.on("drain", this.onSocketDrain);
    socket.on("error", this.onSocketError);
    socket.once("close", this.onSocketClose);
    if (!deferPreface) this.sendPreface();
  }

  private sendPreface(): void {
    if (this.prefaceSent) return;
    this.prefaceSent = true;
    if (!this.isServer) this.writer.bytes(connectionPreface);
    this.sendSettings(this.localSettings());
    const extra = this.limits.connectionWindowSize - defaultInitialWindowSize;
    if (extra > 0) {
      this.writer.windowUpdate(0, extra);
      this.recvWindow += extra;
    }
    this.scheduleFlush();
  }

  private localSettings(): Setting[] {
    const l = this.limits;
    const settings: Setting[] = [];
    if (l.headerTableSize !== 4096) settings.push({ id: SettingsId.HEADER_TABLE_SIZE, value: l.headerTableSize });
    if (!this.isServer) settings.push({ id: SettingsId.ENABLE_PUSH, value: 0 });
    if (this.isServer) settings.push({ id: SettingsId.MAX_CONCURRENT_STREAMS, value: l.maxConcurrentStreams });
    if (l.initialWindowSize !== defaultInitialWindowSize) settings.push({ id: SettingsId.INITIAL_WINDOW_SIZE, value: l.initialWindowSize });
    if (l.maxFrameSize !== minMaxFrameSize) settings.push({ id: SettingsId.MAX_FRAME_SIZE, value: l.maxFrameSize });
    settings.push({ id: SettingsId.MAX_HEADER_LIST_SIZE, value: l.maxHeaderListSize });
    return settings;
  }

  private sendSettings(settings: Setting[]): void {
    this.writer.settings(settings);
    this.settingsUnacked++;
    if (this.settingsTimer === undefined) {
      this.settingsTimer = setTimeout(() => this.connectionError(Http2ErrorCode.SETTINGS_TIMEOUT, "SETTINGS not acknowledged in time"), this.limits.settingsTimeoutMs);
      this.settingsTimer.unref();
    }
  }

  // ---- output ----

  /** True while the socket holds more than its high-water mark: DATA waits, control frames still go. */
  get congested(): boolean {
    return this.socket.writableLength >= this.limits.socketHighWaterMark;
  }

  /** Frames written outside a socket read go out at the end of the current microtask. */
  scheduleFlush(): void {
    if (this.inRead || this.flushQueued || this.dead) return;
    this.flushQueued = true;
    // nextTick runs once the microtask queue is empty: every frame a burst of promise-driven
    // work produces (a server stream's messages, say) leaves in one socket write.
    process.nextTick(this.flush);
  }

  private flush(): void {
    this.flushQueued = false;
    const chunks = this.writer.take();
    if (chunks.length === 0 || this.socket.destroyed) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!);
      return;
    }
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  /** Encodes and writes a header block now, so HPACK state follows wire order. */
  writeHeaders(streamId: number, headers: Headers, endStream: boolean): void {
    const block = this.encoder.encode(headers);
    this.writer.headers(streamId, block, endStream, this.peerMaxFrameSize);
    this.pingStrikes?.reset();
    this.scheduleFlush();
  }

  /** One DATA frame, within the windows; the caller flushes. */
  writeDataFrame(streamId: number, data: Uint8Array, endStream: boolean): void {
    this.writer.data(streamId, data, endStream, 0, this.peerMaxFrameSize);
    // Sending HEADERS or DATA forgives the peer's ping strikes (A8 server enforcement).
    this.pingStrikes?.reset();
  }

  /** A control frame we owe the peer; a peer that makes us owe too many while not reading is cut off. */
  private oweControlFrame(): boolean {
    if (!this.congested) {
      this.pendingControlFrames = 0;
      return true;
    }
    if (++this.pendingControlFrames > this.limits.maxPendingControlFrames) {
      this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, "too many control frames queued for a peer that does not read");
      return false;
    }
    return true;
  }

  private onSocketDrain(): void {
    this.pendingControlFrames = 0;
    this.resumeBlocked();
    this.flush();
  }

  /** Lets streams with queued DATA send what the windows allow now, and wakes their writers. */
  private resumeBlocked(): void {
    if (this.blocked.size === 0) return;
    for (const stream of this.blocked) {
      if (this.sendWindow <= 0 || this.congested) break;
      if (stream.flushQueued()) this.blocked.delete(stream);
    }
    for (const stream of this.streams.values()) stream.notifyDrainIfNeeded();
  }

  // ---- input ----

  private onSocketData(chunk: Buffer): void {
    if (this.dead) return;
    this.lastReadAt = performance.now();
    this.inRead = true;
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
      for (let frame = reader.next(); frame !== undefined && !this.dead; frame = reader.next()) {
        this.handleFrame(frame);
      }
    } finally {
      this.inRead = false;
      if (!this.dead) this.flush();
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
        this.onBadPreface(received);
        return undefined;
      }
    }
    this.prefaceBytes += n;
    if (this.prefaceBytes < connectionPreface.length) return undefined;
    this.prefacePending = false;
    this.sendPreface();
    return data.subarray(n);
  }

  /**
   * A connection that did not start with the HTTP/2 preface (server side); `received`
   * is every byte read so far.
   */
  protected onBadPreface(_received: Uint8Array): void {
    this.sendPreface();
    this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, "invalid connection preface");
  }

  /** Stops reading and writing: the socket now belongs to someone else (an HTTP/1.1 server). */
  protected detach(): void {
    this.dead = true;
    this.clearHeaderBlockTimer();
    this.writer.take();
    const socket = this.socket;
    socket.off("data", this.onSocketData);
    socket.off("drain", this.onSocketDrain);
    socket.off("error", this.onSocketError);
    socket.off("close", this.onSocketClose);
    if (this.settingsTimer !== undefined) clearTimeout(this.settingsTimer);
    this.settingsTimer = undefined;
  }

  private onSocketError(err: Error): void {
    this.error ??= err;
  }

  private handleFrame(frame: Frame | FrameError): void {
    if (frame.type === "error") {
      if (frame.scope === "connection") this.connectionError(frame.code, frame.message);
      else this.streamError(frame.streamId, frame.code, frame.message);
      return;
    }
    if (this.headerBlock.inProgress && frame.type !== "CONTINUATION") {
      this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `${frame.type} frame inside a header block of stream ${this.headerBlock.streamId}`);
      return;
    }
    if (!this.settingsReceived) {
      if (frame.type !== "SETTINGS" || frame.ack) {
        this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `the first frame must be SETTINGS, got ${frame.type}`);
        return;
      }
      this.settingsReceived = true;
    }
    this.dispatch(frame);
  }

  private dispatch(frame: ConnectionFrame): void {
    switch (frame.type) {
      case "DATA":
        return this.onData(frame);
      case "HEADERS":
        return this.onHeadersFrame(frame);
      case "CONTINUATION":
        return this.onContinuation(frame);
      case "PRIORITY":
        // Accepted and ignored (RFC 9113 §5.3.2), but not for free.
        this.allow("controlFrame");
        return;
      case "RST_STREAM":
        return this.onRstStream(frame);
      case "SETTINGS":
        return this.onSettings(frame);
      case "PUSH_PROMISE":
        // We never enable push; a client must not send it at all (RFC 9113 §8.4).
        return this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, "PUSH_PROMISE received but push is disabled");
      case "PING":
        return this.onPing(frame);
      case "GOAWAY":
        return this.onGoaway(frame);
      case "WINDOW_UPDATE":
        return this.onWindowUpdate(frame);
      case "UNKNOWN":
        // Extension frames are ignored (RFC 9113 §5.5).
        this.allow("controlFrame");
        return;
      default:
        frame satisfies never;
    }
  }

  /** Counts a frame a peer could flood us with; false (and GOAWAY ENHANCE_YOUR_CALM) past the limit. */
  protected allow(kind: FloodKind): boolean {
    if (this.floods.allow(kind)) return true;
    this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, floodMessages[kind]);
    return false;
  }

  /** Was `id` opened by the peer (odd ids from clients), rather than by us? */
  private peerInitiated(id: number): boolean {
    return (id % 2 === 1) === this.isServer;
  }

  /** A stream id in the idle state: never opened by its initiator (RFC 9113 §5.1.1). */
  isIdle(id: number): boolean {
    return this.peerInitiated(id) ? id > this.lastPeerStreamId : id >= this.nextStreamId;
  }

  private onData(frame: Extract<Frame, { type: "DATA" }>): void {
    const id = frame.streamId;
    const length = frame.flowControlledLength;
    if (length > this.recvWindow) {
      this.connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR, `DATA of ${length} bytes exceeds the connection window of ${this.recvWindow}`);
      return;
    }
    this.recvWindow -= length;
    if (length === 0 && !frame.endStream && !this.allow("emptyFrame")) return;
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.isIdle(id)) {
        this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
        return;
      }
      this.creditConnection(length);
      // Late DATA for a stream we reset is expected; anything else is a stream error.
      if (this.closedHow(id) !== "reset-local") this.streamError(id, Http2ErrorCode.STREAM_CLOSED, `DATA on closed stream ${id}`);
      return;
    }
    if (stream.remoteEnded) {
      this.creditConnection(length);
      this.streamError(id, Http2ErrorCode.STREAM_CLOSED, `DATA on stream ${id} after END_STREAM`);
      return;
    }
    if (length > stream.recvWindow) {
      this.creditConnection(length);
      this.streamError(id, Http2ErrorCode.FLOW_CONTROL_ERROR, `DATA of ${length} bytes exceeds the window of stream ${id}`);
      return;
    }
    stream.receiveData(frame.data, length, frame.endStream);
  }

  private onHeadersFrame(frame: Extract<Frame, { type: "HEADERS" }>): void {
    const selfDependent = frame.priority !== undefined && frame.priority.dependency === frame.streamId;
    if (frame.endHeaders) {
      this.onHeaderBlock(frame.streamId, frame.fragment, frame.endStream, selfDependent);
      return;
    }
    const tooMuch = this.headerBlock.start(frame.streamId, frame.fragment, frame.endStream, selfDependent);
    if (tooMuch !== undefined) {
      this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, tooMuch);
      return;
    }
    const timeoutMs = this.limits.headerBlockTimeoutMs;
    this.headerBlockTimer = setTimeout(() => {
      this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, `header block of stream ${frame.streamId} not finished within ${timeoutMs} ms`);
    }, timeoutMs);
    this.headerBlockTimer.unref();
  }

  private clearHeaderBlockTimer(): void {
    if (this.headerBlockTimer === undefined) return;
    clearTimeout(this.headerBlockTimer);
    this.headerBlockTimer = undefined;
  }

  private onContinuation(frame: Extract<Frame, { type: "CONTINUATION" }>): void {
    const assembler = this.headerBlock;
    if (assembler.streamId !== frame.streamId) {
      this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${frame.streamId} without a header block in progress`);
      return;
    }
    if (frame.fragment.length === 0 && !frame.endHeaders && !this.allow("emptyFrame")) return;
    const tooMuch = assembler.add(frame.fragment);
    if (tooMuch !== undefined) {
      this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, tooMuch);
      return;
    }
    if (!frame.endHeaders) return;
    this.clearHeaderBlockTimer();
    const { streamId, block, endStream, selfDependent } = assembler.finish();
    this.onHeaderBlock(streamId, block, endStream, selfDependent);
  }

  private onHeaderBlock(streamId: number, block: Uint8Array, endStream: boolean, selfDependent: boolean): void {
    const result = this.decoder.decode(block);
    if (!result.ok) {
      this.connectionError(Http2ErrorCode.COMPRESSION_ERROR, `header block of stream ${streamId}: ${result.message}`);
      return;
    }
    const stream = this.streams.get(streamId);
    if (stream === undefined) {
      if (!this.isIdle(streamId)) {
        const how = this.closedHow(streamId);
        if (how === "reset-local") return; // crossed our RST_STREAM on the wire
        if (how === undefined) this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}, lower than a stream already opened`);
        else this.connectionError(Http2ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${streamId}`);
        return;
      }
      if (!this.peerInitiated(streamId)) {
        this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}, which the peer may not open`);
        return;
      }
      this.lastPeerStreamId = streamId;
      if (this.goawaySentLastStreamId !== undefined && streamId > this.goawaySentLastStreamId) {
        // Refused by our GOAWAY: ignored, and so is whatever follows on it.
        this.rememberClosed(streamId, "reset-local");
        return;
      }
      if (selfDependent) {
        this.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, `stream ${streamId} depends on itself`);
        return;
      }
      this.onPeerStream(streamId, result, endStream);
      return;
    }
    if (selfDependent) {
      this.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, `stream ${streamId} depends on itself`);
      return;
    }
    if (stream.remoteEnded) {
      this.streamError(streamId, Http2ErrorCode.STREAM_CLOSED, `HEADERS on stream ${streamId} after END_STREAM`);
      return;
    }
    if (result.listTooLarge) {
      this.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, `header list of stream ${streamId} is over ${this.limits.maxHeaderListSize} bytes`);
      return;
    }
    if (result.malformed !== undefined) {
      this.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, result.malformed);
      return;
    }
    stream.onHeaderBlock(result.headers, endStream);
  }

  /** A header block opening a new stream; only servers accept them. */
  protected abstract onPeerStream(streamId: number, result: Extract<HpackDecodeResult, { ok: true }>, endStream: boolean): void;

  /** Counts a stream the peer reset or we refused; false (and GOAWAY) on a rapid-reset flood. */
  protected takeReset(): boolean {
    return this.allow("reset");
  }

  private onRstStream(frame: Extract<Frame, { type: "RST_STREAM" }>): void {
    const stream = this.streams.get(frame.streamId);
    if (stream === undefined) {
      if (this.isIdle(frame.streamId)) this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${frame.streamId}`);
      else this.allow("controlFrame");
      return;
    }
    if (!this.takeReset()) return;
    stream.abort(frame.errorCode, true, `stream reset by the peer with RST_STREAM code ${frame.errorCode}`, undefined);
  }

  private onSettings(frame: Extract<Frame, { type: "SETTINGS" }>): void {
    if (frame.ack) {
      if (this.settingsUnacked > 0 && --this.settingsUnacked === 0 && this.settingsTimer !== undefined) {
        clearTimeout(this.settingsTimer);
        this.settingsTimer = undefined;
      }
      return;
    }
    if (!this.allow("settings")) return;
    for (const { id, value } of frame.settings) {
      switch (id) {
        case SettingsId.HEADER_TABLE_SIZE:
          this.encoder.setPeerMaxTableSize(value);
          break;
        case SettingsId.ENABLE_PUSH:
          if (!this.isServer && value !== 0) {
            this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, "a server may not send SETTINGS_ENABLE_PUSH 1");
            return;
          }
          break;
        case SettingsId.MAX_CONCURRENT_STREAMS:
          this.peerMaxConcurrentStreams = value;
          break;
        case SettingsId.INITIAL_WINDOW_SIZE: {
          const delta = value - this.peerInitialWindowSize;
          this.peerInitialWindowSize = value;
          for (const stream of this.streams.values()) {
            if (!stream.adjustSendWindow(delta)) {
              this.connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${value} overflows the window of stream ${stream.id}`);
              return;
            }
          }
          break;
        }
        case SettingsId.MAX_FRAME_SIZE:
          this.peerMaxFrameSize = value;
          break;
        case SettingsId.MAX_HEADER_LIST_SIZE:
          this.peerMaxHeaderListSize = value;
          break;
        default:
          break; // unknown settings are ignored (RFC 9113 §6.5.2)
      }
    }
    if (!this.oweControlFrame()) return;
    this.writer.settingsAck();
    this.onPeerSettings();
    this.resumeBlocked();
  }

  /** The peer's settings changed (the client opens queued streams when the limit grows). */
  protected onPeerSettings(): void {}

  private onPing(frame: Extract<Frame, { type: "PING" }>): void {
    if (frame.ack) {
      const key = pingKey(frame.opaqueData);
      const waiter = this.pingWaiters.get(key);
      if (waiter !== undefined) {
        this.pingWaiters.delete(key);
        waiter();
      }
      return;
    }
    if (!this.allow("ping")) return;
    if (this.pingStrikes !== undefined && !this.pingStrikes.received(performance.now(), this.streams.size > 0)) {
      this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, tooManyPings);
      return;
    }
    if (!this.oweControlFrame()) return;
    this.writer.ping(frame.opaqueData, true);
  }

  /** Sends a PING and calls `onAck` when its ACK arrives. */
  ping(opaqueData: Uint8Array, onAck: () => void): void {
    this.pingWaiters.set(pingKey(opaqueData), onAck);
    this.writer.ping(opaqueData, false);
    this.scheduleFlush();
  }

  private onGoaway(frame: Extract<Frame, { type: "GOAWAY" }>): void {
    this.goawayReceived = true;
    this.onPeerGoaway(frame.lastStreamId, frame.errorCode, new TextDecoder().decode(frame.debugData));
    this.maybeFinish();
  }

  /** The peer sent GOAWAY: it opens no more streams, and ours above `lastStreamId` were not processed. */
  protected abstract onPeerGoaway(lastStreamId: number, errorCode: number, debug: string): void;

  private onWindowUpdate(frame: Extract<Frame, { type: "WINDOW_UPDATE" }>): void {
    if (!this.allow("controlFrame")) return;
    const id = frame.streamId;
    if (id === 0) {
      this.sendWindow += frame.increment;
      if (this.sendWindow > maxWindowSize) {
        this.connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR, "connection window above 2^31-1");
        return;
      }
      this.resumeBlocked();
      return;
    }
    const stream = this.streams.get(id);
    if (stream === undefined) {
      if (this.isIdle(id)) this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    stream.sendWindow += frame.increment;
    if (stream.sendWindow > maxWindowSize) {
      this.streamError(id, Http2ErrorCode.FLOW_CONTROL_ERROR, `window of stream ${id} above 2^31-1`);
      return;
    }
    if (this.blocked.has(stream) && stream.flushQueued()) this.blocked.delete(stream);
    stream.notifyDrainIfNeeded();
  }

  // ---- flow control (receive side) ----

  /** Returns `n` received bytes to the peer as connection window, in updates of half the window. */
  creditConnection(n: number): void {
    this.recvCredit += n;
    if (this.recvCredit >= this.limits.connectionWindowSize >>> 1) {
      this.writer.windowUpdate(0, this.recvCredit);
      this.recvWindow += this.recvCredit;
      this.recvCredit = 0;
      this.scheduleFlush();
    }
  }

  // ---- errors and closing ----

  /**
   * A stream error (RFC 9113 §5.4.2): RST_STREAM with `code`. On an idle stream the
   * frame that caused it cannot be answered that way (RST_STREAM on an idle stream is
   * itself an error), so it becomes a connection error with the same code.
   */
  streamError(streamId: number, code: number, message: string): void {
    if (this.isIdle(streamId)) {
      this.connectionError(code === Http2ErrorCode.STREAM_CLOSED ? Http2ErrorCode.PROTOCOL_ERROR : code, message);
      return;
    }
    if (!this.allow("streamError")) return;
    if (!this.oweControlFrame()) return;
    this.writer.rstStream(streamId, code);
    this.scheduleFlush();
    const stream = this.streams.get(streamId);
    if (stream !== undefined) stream.abort(code, false, message, undefined);
    else this.rememberClosed(streamId, "reset-local");
  }

  /** RST_STREAM from our side (the application reset the stream). */
  resetStream(stream: H2Stream, code: number, reason: string): void {
    if (stream.state !== "idle" && stream.state !== "closed") {
      this.writer.rstStream(stream.id, code);
      this.scheduleFlush();
    }
    stream.abort(code, false, reason, undefined);
  }

  /** Called by a stream leaving the table. */
  streamClosed(stream: H2Stream, how: ClosedHow): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    this.rememberClosed(stream.id, how);
    this.onStreamRemoved(stream);
    this.maybeFinish();
  }

  /** A stream left the table (the client opens a queued one). */
  protected onStreamRemoved(_stream: H2Stream): void {}

  private rememberClosed(id: number, how: ClosedHow): void {
    const slot = this.closedNext;
    this.closedIds[slot] = id;
    this.closedHowIndex[slot] = closedHows.indexOf(how);
    this.closedNext = (slot + 1) % closedMemory;
  }

  /** How a recently closed stream closed; undefined when it is not remembered. */
  private closedHow(id: number): ClosedHow | undefined {
    // Newest first: a stream id is closed once, but the search should find it fast.
    for (let i = 1; i <= closedMemory; i++) {
      const slot = (this.closedNext - i + closedMemory) % closedMemory;
      if (this.closedIds[slot] === id) return closedHows[this.closedHowIndex[slot]!];
    }
    return undefined;
  }

  /**
   * A connection error (RFC 9113 §5.4.1): GOAWAY with the last peer stream and `code`,
   * then the socket closes; every open stream fails.
   */
  connectionError(code: number, message: string): void {
    if (this.dead) return;
    this.writer.goaway(this.lastPeerStreamId, code, new TextEncoder().encode(message.slice(0, 256)));
    this.flush();
    this.error ??= new Error(`HTTP/2 connection error ${code}: ${message}`);
    this.shutdown(code, this.error);
    this.socket.end();
    // A peer that never closes its side is not waited for.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Stops the connection: no more frames; open streams fail with `code` and `error`. */
  protected shutdown(code: number, error: Error): void {
    this.clearHeaderBlockTimer();
    if (this.dead) return;
    this.dead = true;
    if (this.settingsTimer !== undefined) clearTimeout(this.settingsTimer);
    this.settingsTimer = undefined;
    const streams = [...this.streams.values()];
    for (const stream of streams) stream.abort(code, false, error.message, error);
    this.onShutdown(error);
  }

  /** After shutdown: the client fails its queued streams. */
  protected onShutdown(_error: Error): void {}

  /** Closes the socket once we are closing (or the peer went away) and no stream is left. */
  protected maybeFinish(): void {
    if (this.dead || this.streams.size > 0) return;
    if (!this.closing && !this.goawayReceived) return;
    if (this.isServer && this.closing && this.goawaySentLastStreamId === maxWindowSize) return; // phase one of GOAWAY
    this.clearHeaderBlockTimer();
    this.flush();
    this.dead = true;
    if (this.settingsTimer !== undefined) clearTimeout(this.settingsTimer);
    this.settingsTimer = undefined;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Closes at once: streams fail, the socket is destroyed. */
  destroy(error: Error = new Error("connection destroyed")): void {
    this.error ??= error;
    this.shutdown(Http2ErrorCode.CANCEL, error);
    this.socket.destroy();
  }

  private onSocketClose(): void {
    if (!this.dead) {
      this.error ??= new Error("connection closed by the peer");
      this.shutdown(Http2ErrorCode.INTERNAL_ERROR, this.error);
    }
    this.pingWaiters.clear();
    this.onSocketClosed();
  }

  /** The socket is gone (the server forgets the connection; the client tells its owner). */
  protected abstract onSocketClosed(): void;
}

function pingKey(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 8; i++) s += String.fromCharCode(data[i]!);
  return s;
}

export { maxWindowSize };
