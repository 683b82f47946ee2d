/**
 * Incoming frames addressed to a stream (DATA, HEADERS with its CONTINUATIONs,
 * RST_STREAM, WINDOW_UPDATE): checked against the stream's state (RFC 9113 §5.1), its
 * window and what a late frame for a closed stream may be, then handed to the H2Stream.
 * Header blocks are assembled and HPACK-decoded here. It sends nothing itself: errors go
 * to the connection (RST_STREAM or GOAWAY), and so does a header block opening a stream.
 */
import { Http2ErrorCode, maxWindowSize } from "../../protocol/http2/constants.js";
import type { Frame } from "../../protocol/http2/frame.js";
import { HpackDecoder, type HpackDecodeResult } from "../../protocol/http2/hpack-decoder.js";
import type { ClosedStreams } from "./closed-streams.js";
import type { ConnectionFlowControl } from "./connection-flow.js";
import type { ConnectionOutput } from "./connection-output.js";
import type { FloodKind } from "./flood-guard.js";
import { HeaderBlockAssembler } from "./header-block.js";
import type { H2Limits } from "./options.js";
import type { H2Stream } from "./stream.js";

/** A header block that decoded (it may still be malformed or over the list size). */
export type DecodedHeaderBlock = Extract<HpackDecodeResult, { ok: true }>;

/** What the router needs of its connection. */
export interface StreamFrameOwner {
  readonly limits: H2Limits;
  readonly streams: ReadonlyMap<number, H2Stream>;
  readonly closedStreams: ClosedStreams;
  readonly flow: ConnectionFlowControl;
  readonly output: ConnectionOutput;
  /** Highest stream id the peer opened; a new peer stream raises it. */
  lastPeerStreamId: number;
  /** Peer streams above this were refused by our GOAWAY. */
  readonly goawaySentLastStreamId: number | undefined;
  isIdle(id: number): boolean;
  peerInitiated(id: number): boolean;
  /** Flood accounting; false once the connection is being ended for it. */
  allow(kind: FloodKind): boolean;
  takeReset(): boolean;
  connectionError(code: number, message: string): void;
  streamError(streamId: number, code: number, message: string): void;
  /** A header block opening a new peer stream (only servers accept them). */
  onPeerStream(streamId: number, result: DecodedHeaderBlock, endStream: boolean): void;
}

export class StreamFrameRouter {
  /** The header block waiting for CONTINUATION frames; nothing else may come in between. */
  readonly headerBlock: HeaderBlockAssembler;
  private readonly decoder: HpackDecoder;

  constructor(private readonly conn: StreamFrameOwner) {
    const limits = conn.limits;
    this.decoder = new HpackDecoder({ maxTableSize: limits.headerTableSize, maxHeaderListSize: limits.maxHeaderListSize });
    this.headerBlock = new HeaderBlockAssembler(
      { maxBytes: 2 * limits.maxHeaderListSize + 16_384, maxFrames: limits.maxContinuationFrames, timeoutMs: limits.headerBlockTimeoutMs },
      (message) => conn.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, message),
    );
  }

  onData(frame: Extract<Frame, { type: "DATA" }>): void {
    const conn = this.conn;
    const id = frame.streamId;
    const length = frame.flowControlledLength;
    const overrun = conn.flow.receive(length);
    if (overrun !== undefined) {
      conn.connectionError(Http2ErrorCode.FLOW_CONTROL_ERROR, overrun);
      return;
    }
    if (length === 0 && !frame.endStream && !conn.allow("emptyFrame")) return;
    const stream = conn.streams.get(id);
    if (stream === undefined) {
      if (conn.isIdle(id)) {
        conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `DATA on idle stream ${id}`);
        return;
      }
      conn.flow.credit(length);
      // Late DATA for a stream we reset is expected; anything else is a stream error.
      if (conn.closedStreams.how(id) !== "reset-local") conn.streamError(id, Http2ErrorCode.STREAM_CLOSED, `DATA on closed stream ${id}`);
      return;
    }
    if (stream.remoteEnded) {
      conn.flow.credit(length);
      conn.streamError(id, Http2ErrorCode.STREAM_CLOSED, `DATA on stream ${id} after END_STREAM`);
      return;
    }
    if (length > stream.recvWindow) {
      conn.flow.credit(length);
      conn.streamError(id, Http2ErrorCode.FLOW_CONTROL_ERROR, `DATA of ${length} bytes exceeds the window of stream ${id}`);
      return;
    }
    stream.receiveData(frame.data, length, frame.endStream);
  }

  onHeaders(frame: Extract<Frame, { type: "HEADERS" }>): void {
    const selfDependent = frame.priority !== undefined && frame.priority.dependency === frame.streamId;
    if (frame.endHeaders) {
      this.onHeaderBlock(frame.streamId, frame.fragment, frame.endStream, selfDependent);
      return;
    }
    const tooMuch = this.headerBlock.start(frame.streamId, frame.fragment, frame.endStream, selfDependent);
    if (tooMuch !== undefined) this.conn.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, tooMuch);
  }

  onContinuation(frame: Extract<Frame, { type: "CONTINUATION" }>): void {
    const conn = this.conn;
    const assembler = this.headerBlock;
    if (assembler.streamId !== frame.streamId) {
      conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `CONTINUATION on stream ${frame.streamId} without a header block in progress`);
      return;
    }
    if (frame.fragment.length === 0 && !frame.endHeaders && !conn.allow("emptyFrame")) return;
    const tooMuch = assembler.add(frame.fragment);
    if (tooMuch !== undefined) {
      conn.connectionError(Http2ErrorCode.ENHANCE_YOUR_CALM, tooMuch);
      return;
    }
    if (!frame.endHeaders) return;
    const { streamId, block, endStream, selfDependent } = assembler.finish();
    this.onHeaderBlock(streamId, block, endStream, selfDependent);
  }

  private onHeaderBlock(streamId: number, block: Uint8Array, endStream: boolean, selfDependent: boolean): void {
    const conn = this.conn;
    const result = this.decoder.decode(block);
    if (!result.ok) {
      conn.connectionError(Http2ErrorCode.COMPRESSION_ERROR, `header block of stream ${streamId}: ${result.message}`);
      return;
    }
    const stream = conn.streams.get(streamId);
    if (stream === undefined) {
      this.onNewStreamHeaderBlock(streamId, result, endStream, selfDependent);
      return;
    }
    if (selfDependent) {
      conn.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, `stream ${streamId} depends on itself`);
      return;
    }
    if (stream.remoteEnded) {
      conn.streamError(streamId, Http2ErrorCode.STREAM_CLOSED, `HEADERS on stream ${streamId} after END_STREAM`);
      return;
    }
    if (result.listTooLarge) {
      conn.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, `header list of stream ${streamId} is over ${conn.limits.maxHeaderListSize} bytes`);
      return;
    }
    if (result.malformed !== undefined) {
      conn.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, result.malformed);
      return;
    }
    stream.onHeaderBlock(result.headers, endStream);
  }

  /** A header block for a stream not in the table: a new peer stream, or a late one for a closed stream. */
  private onNewStreamHeaderBlock(streamId: number, result: DecodedHeaderBlock, endStream: boolean, selfDependent: boolean): void {
    const conn = this.conn;
    if (!conn.isIdle(streamId)) {
      const how = conn.closedStreams.how(streamId);
      if (how === "reset-local") return; // crossed our RST_STREAM on the wire
      if (how === undefined) conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}, lower than a stream already opened`);
      else conn.connectionError(Http2ErrorCode.STREAM_CLOSED, `HEADERS on closed stream ${streamId}`);
      return;
    }
    if (!conn.peerInitiated(streamId)) {
      conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `HEADERS on stream ${streamId}, which the peer may not open`);
      return;
    }
    conn.lastPeerStreamId = streamId;
    if (conn.goawaySentLastStreamId !== undefined && streamId > conn.goawaySentLastStreamId) {
      // Refused by our GOAWAY: ignored, and so is whatever follows on it.
      conn.closedStreams.remember(streamId, "reset-local");
      return;
    }
    if (selfDependent) {
      conn.streamError(streamId, Http2ErrorCode.PROTOCOL_ERROR, `stream ${streamId} depends on itself`);
      return;
    }
    conn.onPeerStream(streamId, result, endStream);
  }

  onRstStream(frame: Extract<Frame, { type: "RST_STREAM" }>): void {
    const conn = this.conn;
    const stream = conn.streams.get(frame.streamId);
    if (stream === undefined) {
      if (conn.isIdle(frame.streamId)) conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `RST_STREAM on idle stream ${frame.streamId}`);
      else conn.allow("controlFrame");
      return;
    }
    if (!conn.takeReset()) return;
    stream.abort(frame.errorCode, true, `stream reset by the peer with RST_STREAM code ${frame.errorCode}`, undefined);
  }

  /** WINDOW_UPDATE on a stream (not 0), already counted against the control-frame flood limit. */
  onWindowUpdate(frame: Extract<Frame, { type: "WINDOW_UPDATE" }>): void {
    const conn = this.conn;
    const id = frame.streamId;
    const stream = conn.streams.get(id);
    if (stream === undefined) {
      if (conn.isIdle(id)) conn.connectionError(Http2ErrorCode.PROTOCOL_ERROR, `WINDOW_UPDATE on idle stream ${id}`);
      return;
    }
    stream.sendWindow += frame.increment;
    if (stream.sendWindow > maxWindowSize) {
      conn.streamError(id, Http2ErrorCode.FLOW_CONTROL_ERROR, `window of stream ${id} above 2^31-1`);
      return;
    }
    const blocked = conn.output.blocked;
    if (blocked.has(stream) && stream.flushQueued()) blocked.delete(stream);
    stream.notifyDrainIfNeeded();
  }
}
