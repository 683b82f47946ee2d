/**
 * A frame-level HTTP/2 client for conformance and attack tests: it speaks whatever
 * frames a test writes (broken ones included) over a real socket and reads the
 * server's frames back with our pure frame reader and HPACK decoder. It keeps no
 * protocol state of its own beyond HPACK, so a test can break any rule on purpose.
 */
import * as net from "node:net";
import { connectionPreface, FrameType, Http2ErrorCode, http2ErrorName } from "../../src/protocol/http2/constants.js";
import type { Frame, FrameError, Setting } from "../../src/protocol/http2/frame.js";
import { FrameReader } from "../../src/protocol/http2/frame-reader.js";
import { FrameWriter } from "../../src/protocol/http2/frame-writer.js";
import { HpackDecoder, type DecodedHeaders } from "../../src/protocol/http2/hpack-decoder.js";
import { HpackEncoder, type HeaderFields } from "../../src/protocol/http2/hpack-encoder.js";

export type ReceivedFrame = Exclude<Frame, { type: "error" }>;

/** What the server did in reply to a broken frame. */
export type Outcome =
  | { kind: "goaway"; code: number; lastStreamId: number; debug: string }
  | { kind: "rst"; streamId: number; code: number }
  | { kind: "closed" }
  | { kind: "timeout" };

export function describeOutcome(o: Outcome): string {
  switch (o.kind) {
    case "goaway": return `GOAWAY ${http2ErrorName(o.code)} (${o.debug})`;
    case "rst": return `RST_STREAM ${http2ErrorName(o.code)} on stream ${o.streamId}`;
    case "closed": return "connection closed without GOAWAY";
    case "timeout": return "no reaction";
    default: return o satisfies never;
  }
}

export const requestHeaders = (path = "/", extra: HeaderFields = {}): HeaderFields => ({
  ":method": "POST", ":scheme": "http", ":path": path, ":authority": "localhost", "content-type": "application/grpc", te: "trailers", ...extra,
});

export class FrameClient {
  readonly writer = new FrameWriter();
  readonly encoder = new HpackEncoder();
  readonly decoder = new HpackDecoder({ maxHeaderListSize: 1 << 20 });
  private readonly reader = new FrameReader(16_777_215);
  private readonly frames: ReceivedFrame[] = [];
  private waiter: (() => void) | undefined;
  closed = false;
  /** Bytes received on the socket, frames or not. */
  bytesReceived = 0;

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      this.reader.push(chunk);
      for (let f = this.reader.next(); f !== undefined; f = this.reader.next()) {
        if (f.type !== "error") this.frames.push(f);
        else this.frames.push({ type: "UNKNOWN", frameType: -1, flags: 0, streamId: 0, payload: new TextEncoder().encode((f as FrameError).message) });
      }
      this.wake();
    });
    socket.on("close", () => {
      this.closed = true;
      this.wake();
    });
    socket.on("error", () => undefined);
  }

  /** Connects; with `handshake` (the default) sends the preface and SETTINGS and exchanges ACKs. */
  static async connect(port: number, options: { handshake?: boolean; settings?: Setting[] } = {}): Promise<FrameClient> {
    const socket = net.connect({ host: "127.0.0.1", port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const client = new FrameClient(socket);
    if (options.handshake !== false) await client.handshake(options.settings ?? []);
    return client;
  }

  /** Client preface + SETTINGS; waits for the server's SETTINGS (ACKing them) and the ACK of ours. */
  async handshake(settings: Setting[] = []): Promise<void> {
    this.send((w) => {
      w.bytes(connectionPreface);
      w.settings(settings);
    });
    let gotSettings = false;
    let gotAck = false;
    while (!gotSettings || !gotAck) {
      const f = await this.next(5000);
      if (f === undefined) throw new Error("no SETTINGS exchange with the server");
      if (f.type === "SETTINGS" && !f.ack) {
        gotSettings = true;
        this.send((w) => w.settingsAck());
      } else if (f.type === "SETTINGS" && f.ack) {
        gotAck = true;
      }
    }
  }

  /** Writes frames built by `build` in one socket write. */
  send(build: (w: FrameWriter) => void): void {
    build(this.writer);
    for (const chunk of this.writer.take()) this.socket.write(chunk);
  }

  /** A header block encoded with this client's HPACK state; copy is taken. */
  block(headers: HeaderFields): Uint8Array {
    return this.encoder.encode(headers).slice();
  }

  /** HEADERS with END_HEADERS (and END_STREAM when `endStream`). */
  sendHeaders(streamId: number, headers: HeaderFields, endStream: boolean): void {
    const block = this.block(headers);
    this.send((w) => w.headers(streamId, block, endStream, 16_384));
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next frame from the server, or undefined on close or after `timeoutMs`. */
  async next(timeoutMs = 3000): Promise<ReceivedFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = this.frames.shift();
      if (f !== undefined) return f;
      if (this.closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Reads frames until `match` returns a value; undefined on close or timeout. */
  async waitFor<T>(match: (f: ReceivedFrame) => T | undefined, timeoutMs = 3000): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (f === undefined) return undefined;
      const m = match(f);
      if (m !== undefined) return m;
    }
  }

  /** Reads until the server answers with GOAWAY, RST_STREAM or closes; other frames are skipped. */
  async outcome(timeoutMs = 3000): Promise<Outcome> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (f === undefined) return this.closed ? { kind: "closed" } : { kind: "timeout" };
      if (f.type === "GOAWAY") return { kind: "goaway", code: f.errorCode, lastStreamId: f.lastStreamId, debug: new TextDecoder().decode(f.debugData) };
      if (f.type === "RST_STREAM") return { kind: "rst", streamId: f.streamId, code: f.errorCode };
      if (f.type === "HEADERS") this.decoder.decode(f.fragment);
    }
  }

  /** Sends a PING and waits for its ACK: proof the server is still serving this connection. */
  async pingPong(timeoutMs = 3000): Promise<boolean> {
    const data = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    this.send((w) => w.ping(data, false));
    const got = await this.waitFor((f) => (f.type === "PING" && f.ack ? true : undefined), timeoutMs);
    return got === true;
  }

  /** Reads one response: header blocks, DATA bytes and END_STREAM on `streamId`. */
  async response(streamId: number, timeoutMs = 3000): Promise<{ headers: DecodedHeaders[]; body: number; ended: boolean; rst?: number }> {
    const headers: DecodedHeaders[] = [];
    let body = 0;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const f = await this.next(Math.max(1, deadline - Date.now()));
      if (f === undefined) return { headers, body, ended: false };
      if (f.type === "HEADERS") {
        const decoded = this.decoder.decode(f.fragment);
        if (f.streamId === streamId && decoded.ok) headers.push(decoded.headers);
        if (f.streamId === streamId && f.endStream) return { headers, body, ended: true };
      } else if (f.type === "DATA" && f.streamId === streamId) {
        body += f.data.length;
        if (f.endStream) return { headers, body, ended: true };
      } else if (f.type === "RST_STREAM" && f.streamId === streamId) {
        return { headers, body, ended: false, rst: f.errorCode };
      }
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export { FrameType, Http2ErrorCode };
