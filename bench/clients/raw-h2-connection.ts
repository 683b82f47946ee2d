/**
 * A minimal HTTP/2 client connection over node:net, for the bench's lockstep
 * ping-pong load only: h2c with prior knowledge, receive windows so large ours are
 * never the limit (topped up with WINDOW_UPDATEs long before they run out), the
 * peer's windows and SETTINGS obeyed, one header block of HPACK literals reused on
 * every stream, the peer's header blocks decoded with grpc-ts's pure HPACK decoder
 * (servers use the dynamic table). No priorities, no push, no general HTTP.
 * Every frame produced while handling one socket read, echo-driven sends included,
 * leaves in one socket.write: frames are queued and written from setImmediate,
 * after the promise reactions a read set off have run.
 */
import { connect as netConnect, type Socket } from "node:net";
import {
  connectionPreface, defaultInitialWindowSize, FrameFlag, FrameType, HpackDecoder, Http2ErrorCode, http2ErrorName, maxWindowSize,
  minMaxFrameSize, SettingsId,
} from "../../src/protocol/http2/index.js";
import { FrameReader } from "../lib/grpc-wire.js";
import {
  encodeFrame, encodeGoaway, encodeLiteralHeaderBlock, encodeSettings, encodeWindowUpdate, H2FrameSplitter, parseSettings, readUint32, unpaddedContent,
  type H2Frame,
} from "../lib/h2-wire.js";

/** What the owner of a stream hears: each gRPC message of the response, then the end. */
export interface RawStreamHandler {
  /** One response message's payload (a view: read it now). */
  onMessage(payload: Buffer): void;
  /** The stream is over: `undefined` when it ended with grpc-status 0, otherwise why it failed. Called once. */
  onClose(error: Error | undefined): void;
}

/** The sending side of one request stream. */
export interface RawH2Stream {
  readonly id: number;
  /** Sends one already framed gRPC message (5-byte prefix included) as DATA, within the peer's windows. */
  sendMessage(framed: Buffer): void;
  /** Half-closes: an empty DATA frame with END_STREAM, after anything still waiting for window. */
  end(): void;
}

interface StreamState {
  readonly id: number;
  readonly handler: RawStreamHandler;
  readonly reader: FrameReader;
  /** What we may still send on this stream (RFC 9113 §6.9). */
  sendWindow: number;
  /** DATA waiting for window, in order. */
  blocked: { data: Buffer; endStream: boolean }[];
  /** Bytes received since our last WINDOW_UPDATE for this stream. */
  unacknowledged: number;
  sawHeaders: boolean;
  endSent: boolean;
}

/** Our receive windows start at the maximum; a WINDOW_UPDATE tops one up once this much was consumed. */
const windowTopUpBytes = 2 ** 30;

export class RawH2Connection {
  private readonly splitter = new H2FrameSplitter(minMaxFrameSize);
  private readonly decoder = new HpackDecoder();
  private readonly streams = new Map<number, StreamState>();
  private readonly headerBlocks = new Map<string, Buffer>();
  private readonly blockedStreams = new Set<StreamState>();
  private nextStreamId = 1;
  private out: Buffer[] = [];
  private flushQueued = false;
  private connectionSendWindow = defaultInitialWindowSize;
  private peerInitialWindow = defaultInitialWindowSize;
  private peerMaxFrameSize = minMaxFrameSize;
  /** Bytes received since our last connection-level WINDOW_UPDATE. */
  private unacknowledged = 0;
  /** A header block split over CONTINUATION frames, until END_HEADERS. */
  private continuation: { streamId: number; endStream: boolean; fragments: Buffer[] } | undefined;
  private failure: Error | undefined;
  private markReady: (() => void) | undefined;
  private markFailed: ((error: Error) => void) | undefined;
  /** Settles when the server's first SETTINGS arrived (its windows are then known), or the connection failed before. */
  private readonly ready: Promise<void>;

  private constructor(private readonly authority: string, private readonly socket: Socket) {
    this.ready = new Promise((resolve, reject) => {
      this.markReady = resolve;
      this.markFailed = reject;
    });
    socket.on("connect", () => {
      this.enqueue(Buffer.from(connectionPreface));
      this.enqueue(encodeSettings([[SettingsId.ENABLE_PUSH, 0], [SettingsId.INITIAL_WINDOW_SIZE, maxWindowSize]]));
      this.enqueue(encodeWindowUpdate(0, maxWindowSize - defaultInitialWindowSize));
    });
    socket.on("data", (chunk: Buffer) => {
      try {
        this.splitter.push(chunk, (frame) => this.onFrame(frame));
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)), Http2ErrorCode.PROTOCOL_ERROR);
      }
    });
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("the connection closed")));
  }

  /** Connects to 127.0.0.1:`port`; resolves once the server's SETTINGS arrived. */
  static async open(port: number): Promise<RawH2Connection> {
    const connection = new RawH2Connection(`127.0.0.1:${port}`, netConnect({ host: "127.0.0.1", port, noDelay: true }));
    await connection.ready;
    return connection;
  }

  /** Starts a POST to `path` with gRPC's request headers; the stream's DATA follows with sendMessage. */
  openStream(path: string, handler: RawStreamHandler): RawH2Stream {
    if (this.failure !== undefined) throw this.failure;
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const state: StreamState = {
      id, handler, sendWindow: this.peerInitialWindow, blocked: [], unacknowledged: 0, sawHeaders: false, endSent: false,
      reader: new FrameReader((payload) => handler.onMessage(payload)),
    };
    this.streams.set(id, state);
    this.enqueue(encodeFrame(FrameType.HEADERS, FrameFlag.END_HEADERS, id, this.requestHeaderBlock(path)));
    return {
      id,
      sendMessage: (framed) => this.sendData(state, framed, false),
      end: () => this.sendData(state, Buffer.alloc(0), true),
    };
  }

  /** Says goodbye (GOAWAY NO_ERROR) and closes the socket; streams still open fail. */
  close(): void {
    if (this.failure !== undefined) return;
    this.out.push(encodeGoaway(0, Http2ErrorCode.NO_ERROR));
    this.flush();
    this.fail(new Error("the connection was closed by the client"));
  }

  /** The same block for every stream to `path`: literals without indexing leave no state in the server's decoder. */
  private requestHeaderBlock(path: string): Buffer {
    let block = this.headerBlocks.get(path);
    if (block === undefined) {
      block = encodeLiteralHeaderBlock([
        [":method", "POST"], [":scheme", "http"], [":path", path], [":authority", this.authority],
        ["content-type", "application/grpc"], ["te", "trailers"],
      ]);
      this.headerBlocks.set(path, block);
    }
    return block;
  }

  private enqueue(frame: Buffer): void {
    this.out.push(frame);
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.out.length === 0 || this.failure !== undefined) return;
    const data = this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out);
    this.out = [];
    this.socket.write(data);
  }

  private sendData(state: StreamState, data: Buffer, endStream: boolean): void {
    if (this.failure !== undefined || state.endSent || !this.streams.has(state.id)) return;
    if (endStream) state.endSent = true;
    state.blocked.push({ data, endStream });
    this.sendBlocked(state);
  }

  /** Sends what the windows allow of the stream's waiting DATA, split at the peer's SETTINGS_MAX_FRAME_SIZE. */
  private sendBlocked(state: StreamState): void {
    while (state.blocked.length > 0) {
      const next = state.blocked[0]!;
      const { data, endStream } = next;
      if (data.length === 0) {
        this.enqueue(encodeFrame(FrameType.DATA, endStream ? FrameFlag.END_STREAM : 0, state.id));
        state.blocked.shift();
        continue;
      }
      const n = Math.min(data.length, state.sendWindow, this.connectionSendWindow, this.peerMaxFrameSize);
      if (n <= 0) {
        this.blockedStreams.add(state);
        return;
      }
      const whole = n === data.length;
      this.enqueue(encodeFrame(FrameType.DATA, whole && endStream ? FrameFlag.END_STREAM : 0, state.id, whole ? data : data.subarray(0, n)));
      state.sendWindow -= n;
      this.connectionSendWindow -= n;
      if (whole) state.blocked.shift();
      else next.data = data.subarray(n);
    }
    this.blockedStreams.delete(state);
  }

  private onFrame(frame: H2Frame): void {
    if (this.continuation !== undefined && frame.type !== FrameType.CONTINUATION) {
      throw new Error(`frame type ${frame.type} inside a header block (RFC 9113 §6.10)`);
    }
    switch (frame.type) {
      case FrameType.DATA:
        return this.onData(frame);
      case FrameType.HEADERS: {
        const endStream = (frame.flags & FrameFlag.END_STREAM) !== 0;
        const fragment = unpaddedContent(frame);
        if ((frame.flags & FrameFlag.END_HEADERS) !== 0) return this.onHeaderBlock(frame.streamId, fragment, endStream);
        this.continuation = { streamId: frame.streamId, endStream, fragments: [Buffer.from(fragment)] };
        return;
      }
      case FrameType.CONTINUATION: {
        const block = this.continuation;
        if (block === undefined || block.streamId !== frame.streamId) throw new Error(`CONTINUATION on stream ${frame.streamId} without its HEADERS`);
        block.fragments.push(Buffer.from(frame.payload));
        if ((frame.flags & FrameFlag.END_HEADERS) === 0) return;
        this.continuation = undefined;
        return this.onHeaderBlock(block.streamId, Buffer.concat(block.fragments), block.endStream);
      }
      case FrameType.SETTINGS:
        return this.onSettings(frame);
      case FrameType.PING:
        if ((frame.flags & FrameFlag.ACK) === 0) this.enqueue(encodeFrame(FrameType.PING, FrameFlag.ACK, 0, frame.payload));
        return;
      case FrameType.WINDOW_UPDATE:
        return this.onWindowUpdate(frame);
      case FrameType.RST_STREAM: {
        const state = this.streams.get(frame.streamId);
        if (state !== undefined) this.closeStream(state, new Error(`RST_STREAM ${http2ErrorName(readUint32(frame.payload, 0, false))}`));
        return;
      }
      case FrameType.GOAWAY: {
        const lastStreamId = readUint32(frame.payload, 0, true);
        const code = readUint32(frame.payload, 4, false);
        // Streams above lastStreamId were never processed; with an error code, none will finish.
        for (const state of [...this.streams.values()]) {
          if (state.id > lastStreamId || code !== Http2ErrorCode.NO_ERROR) this.closeStream(state, new Error(`GOAWAY ${http2ErrorName(code)}`));
        }
        return;
      }
      case FrameType.PUSH_PROMISE:
        throw new Error("PUSH_PROMISE, though our SETTINGS_ENABLE_PUSH is 0");
      default:
        return; // PRIORITY, and frame types we do not know, are ignored (RFC 9113 §5.5)
    }
  }

  private onData(frame: H2Frame): void {
    // Flow control counts the whole payload, padding included (RFC 9113 §6.9.1).
    const length = frame.payload.length;
    this.unacknowledged += length;
    if (this.unacknowledged >= windowTopUpBytes) {
      this.enqueue(encodeWindowUpdate(0, this.unacknowledged));
      this.unacknowledged = 0;
    }
    const state = this.streams.get(frame.streamId);
    if (state === undefined) return; // a stream already closed on our side
    const endStream = (frame.flags & FrameFlag.END_STREAM) !== 0;
    state.unacknowledged += length;
    if (state.unacknowledged >= windowTopUpBytes && !endStream) {
      this.enqueue(encodeWindowUpdate(state.id, state.unacknowledged));
      state.unacknowledged = 0;
    }
    if (!state.sawHeaders) return this.closeStream(state, new Error("DATA before the response headers"));
    state.reader.push(unpaddedContent(frame));
    if (endStream) this.closeStream(state, new Error("the response ended without trailers"));
  }

  /** Every block is decoded, even for streams we dropped: the decoder's dynamic table must stay in step. */
  private onHeaderBlock(streamId: number, block: Buffer, endStream: boolean): void {
    const decoded = this.decoder.decode(block);
    if (!decoded.ok) throw new Error(`HPACK: ${decoded.message}`); // COMPRESSION_ERROR: the connection is unusable
    const state = this.streams.get(streamId);
    if (state === undefined) return;
    const headers = decoded.headers;
    if (!state.sawHeaders) {
      state.sawHeaders = true;
      if (headers[":status"] !== "200") return this.closeStream(state, new Error(`HTTP status ${String(headers[":status"])}`));
      if (!endStream) return; // response headers; messages and trailers follow
    } else if (!endStream) {
      return this.closeStream(state, new Error("trailers without END_STREAM"));
    }
    const status = headers["grpc-status"];
    if (status !== "0") {
      const message = headers["grpc-message"];
      return this.closeStream(state, new Error(`grpc-status ${String(status ?? "(none)")}${typeof message === "string" ? `: ${decodeURIComponent(message)}` : ""}`));
    }
    if (state.reader.midMessage) return this.closeStream(state, new Error("the response ended mid-message"));
    this.closeStream(state, undefined);
  }

  private onSettings(frame: H2Frame): void {
    if ((frame.flags & FrameFlag.ACK) !== 0) return;
    for (const [id, value] of parseSettings(frame.payload)) {
      if (id === SettingsId.INITIAL_WINDOW_SIZE) {
        if (value > maxWindowSize) throw new Error(`SETTINGS_INITIAL_WINDOW_SIZE ${value} above 2^31-1`);
        // A new initial window moves every open stream's window by the difference (RFC 9113 §6.9.2).
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const state of this.streams.values()) state.sendWindow += delta;
      } else if (id === SettingsId.MAX_FRAME_SIZE) {
        this.peerMaxFrameSize = value;
      }
    }
    this.enqueue(encodeFrame(FrameType.SETTINGS, FrameFlag.ACK, 0));
    this.markReady?.();
    this.markReady = undefined;
    this.sendAllBlocked();
  }

  private onWindowUpdate(frame: H2Frame): void {
    const increment = readUint32(frame.payload, 0, true);
    if (frame.streamId === 0) {
      this.connectionSendWindow += increment;
    } else {
      const state = this.streams.get(frame.streamId);
      if (state === undefined) return;
      state.sendWindow += increment;
    }
    this.sendAllBlocked();
  }

  private sendAllBlocked(): void {
    for (const state of [...this.blockedStreams]) this.sendBlocked(state);
  }

  /** Forgets the stream and tells its owner; a stream we have not half-closed yet is reset. */
  private closeStream(state: StreamState, error: Error | undefined): void {
    if (!this.streams.delete(state.id)) return;
    this.blockedStreams.delete(state);
    if (!state.endSent) {
      const payload = Buffer.allocUnsafe(4);
      payload.writeUInt32BE(Http2ErrorCode.CANCEL, 0);
      this.enqueue(encodeFrame(FrameType.RST_STREAM, 0, state.id, payload));
    }
    state.handler.onClose(error);
  }

  /** The connection is done: every open stream fails with `error`; the socket is ended, with a GOAWAY when we broke off. */
  private fail(error: Error, goawayCode?: number): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.markFailed?.(error);
    this.markReady = undefined;
    this.markFailed = undefined;
    for (const state of [...this.streams.values()]) {
      this.streams.delete(state.id);
      state.handler.onClose(error);
    }
    this.blockedStreams.clear();
    this.out = [];
    if (this.socket.destroyed) return;
    if (goawayCode === undefined) this.socket.end();
    else this.socket.end(encodeGoaway(0, goawayCode));
  }
}
