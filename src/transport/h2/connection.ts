/**
 * One HTTP/2 connection of our own transport (RFC 9113 §3–§6), shared by the server
 * and client sides: the stream table and stream-id rules, the connection's own frames
 * (SETTINGS, PING, GOAWAY, WINDOW_UPDATE on stream 0), stream and connection errors,
 * and how the connection ends. Its parts have their own files: reading and dispatch
 * (connection-input.ts), frames on streams (stream-frames.ts), output batching
 * (connection-output.ts), the connection window (connection-flow.ts), SETTINGS
 * (settings.ts), our PINGs (outstanding-pings.ts), closed-stream memory
 * (closed-streams.ts) and flood limits (flood-guard.ts). Role-specific behaviour (who
 * opens streams, what a header block means) is in server.ts and client.ts.
 */
import type { Socket } from "node:net";
import { performance } from "node:perf_hooks";
import { Http2ErrorCode, connectionPreface, maxWindowSize } from "../../protocol/http2/constants.js";
import type { Frame } from "../../protocol/http2/frame.js";
import { HpackEncoder } from "../../protocol/http2/hpack-encoder.js";
import type { Headers } from "../types.js";
import { ClosedStreams, type ClosedHow } from "./closed-streams.js";
import { ConnectionFlowControl } from "./connection-flow.js";
import { ConnectionInput, type InputOwner } from "./connection-input.js";
import { ConnectionOutput, type OutputOwner } from "./connection-output.js";
import { FloodGuard, floodMessages, type FloodKind } from "./flood-guard.js";
import type { H2Limits } from "./options.js";
import { OutstandingPings } from "./outstanding-pings.js";
import { PingStrikes, tooManyPings } from "./ping-strikes.js";
import { PeerSettings, SettingsAckTimeout, localSettings } from "./settings.js";
import type { H2Stream } from "./stream.js";
import { StreamFrameRouter, type DecodedHeaderBlock, type StreamFrameOwner } from "./stream-frames.js";

export abstract class H2Connection implements InputOwner, OutputOwner, StreamFrameOwner {
  /** Where every frame we send is written; it leaves on the next flush. */
  readonly output: ConnectionOutput;
  /** The connection windows: streams spend `flow.sendWindow` and return what they consume. */
  readonly flow: ConnectionFlowControl;
  /** The stream table: streams open (or half-closed) now, by id. */
  readonly streams = new Map<number, H2Stream>();
  /** Streams that left the table lately, so late frames for them are judged right. */
  readonly closedStreams = new ClosedStreams();
  readonly encoder: HpackEncoder;
  /** The peer's SETTINGS, as they bound what we send. */
  readonly peerSettings = new PeerSettings();
  private readonly settingsAck: SettingsAckTimeout;
  private readonly input: ConnectionInput;
  private readonly streamFrames: StreamFrameRouter;
  private readonly pings: OutstandingPings;
  private readonly floods: FloodGuard;
  /** Server side: PINGs policed against the permitted keepalive interval. */
  private readonly pingStrikes: PingStrikes | undefined;

  /** Highest stream id the peer opened. */
  lastPeerStreamId = 0;
  /** Next stream id we open (client: odd). */
  protected nextStreamId: number;
  private prefaceSent = false;
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
    this.output = new ConnectionOutput(socket, limits, this);
    this.flow = new ConnectionFlowControl(this.output, limits.connectionWindowSize);
    this.encoder = new HpackEncoder({ maxTableSize: limits.encoderTableSize });
    this.settingsAck = new SettingsAckTimeout(limits.settingsTimeoutMs, () => this.connectionError(Http2ErrorCode.SETTINGS_TIMEOUT, "SETTINGS not acknowledged in time"));
    this.streamFrames = new StreamFrameRouter(this);
    this.input = new ConnectionInput(this, this.output, this.streamFrames, isServer, limits.maxFrameSize);
    this.pings = new OutstandingPings(this.output);
    this.floods = new FloodGuard(limits);
    this.pingStrikes = isServer ? new PingStrikes(limits.keepaliveMinPingIntervalMs, limits.keepalivePermitWithoutCalls, limits.maxPingStrikes) : undefined;
    this.nextStreamId = isServer ? 2 : 1;
    this.onSocketError = this.onSocketError.bind(this);
    this.onSocketClose = this.onSocketClose.bind(this);
  }

  // ---- socket ----

  /**
   * Starts reading and sends our preface (client magic, SETTINGS, the connection
   * window). A server that may still hand the connection to HTTP/1.1 defers its preface
   * until the client's has arrived (`deferPreface`).
   */
  protected start(deferPreface = false): void {
    const socket = this.socket;
    socket.setNoDelay(true);
    socket.on("data", this.input.onSocketData);
    socket.on("drain", this.output.onSocketDrain);
    socket.on("error", this.onSocketError);
    socket.once("close", this.onSocketClose);
    if (!deferPreface) this.sendPreface();
  }

  /** Our preface, once (RFC 9113 §3.4): client magic (client side), SETTINGS, the connection window. */
  sendPreface(): void {
    if (this.prefaceSent) return;
    this.prefaceSent = true;
    if (!this.isServer) this.output.writer.bytes(connectionPreface);
    this.output.writer.settings(localSettings(this.limits, this.isServer));
    this.settingsAck.sent();
    this.flow.openReceiveWindow();
    this.output.scheduleFlush();
  }

  /**
   * A connection that did not start with the HTTP/2 preface (server side); `received`
   * is every byte read so far.
   */
  onBadPreface(_received: Uint8Array): void {
    this.sendPreface();
    this.connectionError(Http2ErrorCode.PROTOCOL_ERROR, "invalid connection preface");
  }

  /** Stops reading and writing: the socket now belongs to someone else (an HTTP/1.1 server). */
  protected detach(): void {
    this.dead = true;
    this.stopTimers();
    this.output.discard();
    const socket = this.socket;
    socket.off("data", this.input.onSocketData);
    socket.off("drain", this.output.onSocketDrain);
    socket.off("error", this.onSocketError);
    socket.off("close", this.onSocketClose);
  }

  private onSocketError(err: Error): void {
    this.error ??= err;
  }

  // ---- frames we send ----

  /** Encodes and writes a header block now, so HPACK state follows wire order. */
  writeHeaders(streamId: number, headers: Headers, endStream: boolean): void {
    const block = this.encoder.encode(headers);
    this.output.writer.headers(streamId, block, endStream, this.peerSettings.maxFrameSize);
    this.pingStrikes?.reset();
    this.output.scheduleFlush();
  }

  /** One DATA frame, within the windows; the caller flushes. */
  writeDataFrame(streamId: number, data: Uint8Array, endStream: boolean, copy = false): void {
    this.output.writer.data(streamId, data, endStream, 0, this.peerSettings.maxFrameSize, copy);
    // Sending HEADERS or DATA forgives the peer's ping strikes (A8 server enforcement).
    this.pingStrikes?.reset();
  }

  /** DATA written in place by the caller: see FrameWriter.reserveData. */
  reserveDataFrame(streamId: number, length: number): number {
    const at = this.output.writer.reserveData(streamId, length, this.peerSettings.maxFrameSize);
    this.pingStrikes?.reset();
    return at;
  }

  /** Sends a PING and calls `onAck` when its ACK arrives. */
  ping(opaqueData: Uint8Array, onAck: () => void): void {
    this.pings.send(opaqueData, onAck);
  }

  /** A control frame we owe the peer; a peer that makes us owe too many while not reading is cut off. */
  private oweControlFrame(): boolean {
    if (this.output.oweControlFrame()) return true;
    this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, "too many control frames queued for a peer that does not read");
    return false;
  }

  // ---- the stream table ----

  /** Was `id` opened by the peer (odd ids from clients), rather than by us? */
  peerInitiated(id: number): boolean {
    return (id % 2 === 1) === this.isServer;
  }

  /** A stream id in the idle state: never opened by its initiator (RFC 9113 §5.1.1). */
  isIdle(id: number): boolean {
    return this.peerInitiated(id) ? id > this.lastPeerStreamId : id >= this.nextStreamId;
  }

  /** A header block opening a new stream; only servers accept them. */
  abstract onPeerStream(streamId: number, result: DecodedHeaderBlock, endStream: boolean): void;

  /** Called by a stream leaving the table. */
  streamClosed(stream: H2Stream, how: ClosedHow): void {
    if (this.streams.get(stream.id) !== stream) return;
    this.streams.delete(stream.id);
    this.output.blocked.delete(stream);
    this.closedStreams.remember(stream.id, how);
    this.onStreamRemoved(stream);
    this.maybeFinish();
  }

  /** A stream left the table (the client opens a queued one). */
  protected onStreamRemoved(_stream: H2Stream): void {}

  // ---- flood limits ----

  /** Counts a frame a peer could flood us with; false (and GOAWAY ENHANCE_YOUR_CALM) past the limit. */
  allow(kind: FloodKind): boolean {
    if (this.floods.allow(kind)) return true;
    this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, floodMessages[kind]);
    return false;
  }

  /** Counts a stream the peer reset or we refused; false (and GOAWAY) on a rapid-reset flood. */
  takeReset(): boolean {
    return this.allow("reset");
  }

  // ---- the connection's own frames (from ConnectionInput) ----

  /** The peer's SETTINGS, applied and acknowledged; or its ACK of ours. */
  onSettings(frame: Extract<Frame, { type: "SETTINGS" }>): void {
    if (frame.ack) {
      this.settingsAck.acked();
      return;
    }
    if (!this.allow("settings")) return;
    const error = this.peerSettings.apply(frame.settings, this.isServer, this.encoder, this.streams);
    if (error !== undefined) {
      this.connectionError(error.code, error.message);
      return;
    }
    if (!this.oweControlFrame()) return;
    this.output.writer.settingsAck();
    this.onPeerSettings();
    this.output.resumeBlocked();
  }

  /** The peer's settings changed (the client opens queued streams when the limit grows). */
  protected onPeerSettings(): void {}

  /** A PING to answer (within the flood and keepalive policies), or the ACK of one of ours. */
  onPing(frame: Extract<Frame, { type: "PING" }>): void {
    if (frame.ack) {
      this.pings.acked(frame.opaqueData);
      return;
    }
    if (!this.allow("ping")) return;
    if (this.pingStrikes !== undefined && !this.pingStrikes.received(performance.now(), this.streams.size > 0)) {
      this.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, tooManyPings);
      return;
    }
    if (!this.oweControlFrame()) return;
    this.output.writer.ping(frame.opaqueData, true);
  }

  /** The peer is going away (RFC 9113 §6.8); the connection closes once its streams are done. */
  onGoaway(frame: Extract<Frame, { type: "GOAWAY" }>): void {
    this.goawayReceived = true;
    this.onPeerGoaway(frame.lastStreamId, frame.errorCode, new TextDecoder().decode(frame.debugData));
    this.maybeFinish();
  }

  /** The peer sent GOAWAY: it opens no more streams, and ours above `lastStreamId` were not processed. */
  protected abstract onPeerGoaway(lastStreamId: number, errorCode: number, debug: string): void;

  /** WINDOW_UPDATE: the connection window here, a stream's in stream-frames.ts. */
  onWindowUpdate(frame: Extract<Frame, { type: "WINDOW_UPDATE" }>): void {
    if (!this.allow("controlFrame")) return;
    if (frame.streamId !== 0) {
      this.streamFrames.onWindowUpdate(frame);
      return;
    }
    if (!this.flow.grow(frame.increment)) {
      this.connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR, "connection window above 2^31-1");
      return;
    }
    this.output.resumeBlocked();
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
    this.output.writer.rstStream(streamId, code);
    this.output.scheduleFlush();
    const stream = this.streams.get(streamId);
    if (stream !== undefined) stream.abort(code, false, message, undefined);
    else this.closedStreams.remember(streamId, "reset-local");
  }

  /** RST_STREAM from our side (the application reset the stream). */
  resetStream(stream: H2Stream, code: number, reason: string): void {
    if (stream.state !== "idle" && stream.state !== "closed") {
      this.output.writer.rstStream(stream.id, code);
      this.output.scheduleFlush();
    }
    stream.abort(code, false, reason, undefined);
  }

  /**
   * A connection error (RFC 9113 §5.4.1): GOAWAY with the last peer stream and `code`,
   * then the socket closes; every open stream fails.
   */
  connectionError(code: number, message: string): void {
    if (this.dead) return;
    this.output.writer.goaway(this.lastPeerStreamId, code, new TextEncoder().encode(message.slice(0, 256)));
    this.output.flush();
    this.error ??= new Error(`HTTP/2 connection error ${code}: ${message}`);
    this.shutdown(code, this.error);
    this.socket.end();
    // A peer that never closes its side is not waited for.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** Stops the connection: no more frames; open streams fail with `code` and `error`. */
  protected shutdown(code: number, error: Error): void {
    this.stopTimers();
    if (this.dead) return;
    this.dead = true;
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
    this.stopTimers();
    this.output.flush();
    this.dead = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  /** The SETTINGS ACK and header-block timers must not outlive the connection. */
  private stopTimers(): void {
    this.streamFrames.headerBlock.stop();
    this.settingsAck.stop();
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
    this.pings.clear();
    this.onSocketClosed();
  }

  /** The socket is gone (the server forgets the connection; the client tells its owner). */
  protected abstract onSocketClosed(): void;
}

export { maxWindowSize };
