/**
 * Flow control of the h2 transport with back-pressure both ways: a server writing to
 * a client that does not read holds at most one window plus its high-water mark and
 * waits for onDrain; a paused server reader returns no window, so a client can send no
 * more than one window (more is FLOW_CONTROL_ERROR), and resuming returns it.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Http2ErrorCode, SettingsId } from "../../src/protocol/http2/constants.js";
import { listenH2 } from "../../src/transport/h2/server.js";
import type { ServerTransportStream, TransportServer } from "../../src/transport/types.js";
import { describeOutcome, FrameClient, requestHeaders } from "../h2-conformance/frame-client.js";

const highWaterMark = 64 * 1024;
const chunkSize = 16 * 1024;

interface WriterReport {
  /** Bytes `write` accepted before it first returned false. */
  acceptedBeforeFalse: number;
  drained: Promise<void>;
  finished: Promise<number>;
}

describe("h2 server writing to a client that does not read", () => {
  let server: TransportServer;
  let report: (r: WriterReport) => void;
  const reports: Promise<WriterReport>[] = [];

  before(async () => {
    server = await listenH2({ host: "127.0.0.1", port: 0 }, { streamHighWaterMark: highWaterMark }, (stream: ServerTransportStream) => {
      // Writes 1 MiB as fast as write() allows, waiting for onDrain whenever it says no.
      const total = 1024 * 1024;
      let written = 0;
      let firstFalse = -1;
      let onDrained: () => void = () => undefined;
      let onFinished: (n: number) => void = () => undefined;
      const drained = new Promise<void>((resolve) => (onDrained = resolve));
      const finished = new Promise<number>((resolve) => (onFinished = resolve));
      const pump = () => {
        while (written < total) {
          const ok = stream.write(new Uint8Array(chunkSize));
          written += chunkSize;
          if (!ok) {
            if (firstFalse < 0) {
              firstFalse = written;
              report({ acceptedBeforeFalse: written, drained, finished });
            }
            return;
          }
        }
        stream.sendTrailers({ "x-done": "1" });
        onFinished(written);
      };
      stream.attach({
        onData: () => undefined,
        onEnd: () => {
          stream.sendHeaders({ ":status": "200" });
          pump();
        },
        onAbort: () => undefined,
        onDrain: () => {
          onDrained();
          pump();
        },
      });
    });
    reports.push(new Promise((resolve) => (report = resolve)));
  });
  after(async () => {
    server.destroy();
    await server.closed();
  });

  test("write() says stop after one window plus the high-water mark, and onDrain waits for WINDOW_UPDATE", async () => {
    const client = await FrameClient.connect((server.address as { port: number }).port);
    try {
      client.sendHeaders(1, requestHeaders("/"), true);
      const r = await reports[0]!;
      // 65,535 bytes fit the client's default window; the rest waits in a queue of at most the high-water mark.
      assert.ok(r.acceptedBeforeFalse <= 65_535 + highWaterMark + chunkSize, `accepted ${r.acceptedBeforeFalse}`);
      assert.ok(r.acceptedBeforeFalse >= highWaterMark, `accepted ${r.acceptedBeforeFalse}`);
      const early = await Promise.race([r.drained.then(() => "drained"), new Promise((resolve) => setTimeout(() => resolve("waiting"), 300))]);
      assert.equal(early, "waiting", "no onDrain while the client returns no window");
      client.send((w) => {
        w.windowUpdate(0, 8 * 1024 * 1024);
        w.windowUpdate(1, 8 * 1024 * 1024);
      });
      await r.drained;
      assert.equal(await r.finished, 1024 * 1024);
      const res = await client.response(1, 5000);
      assert.ok(res.ended);
    } finally {
      client.close();
    }
  });
});

describe("h2 server writing DATA in place (the encoder's FrameTarget)", () => {
  test("room is lent after the headers, within the window; room given back returns its window and never leaves", async () => {
    const window = 100;
    let lent: Promise<number[]> = Promise.resolve([]);
    const server = await listenH2({ host: "127.0.0.1", port: 0 }, {}, (stream) => {
      lent = new Promise((resolve) => {
        stream.attach({
          onData: () => undefined,
          onEnd: () => {
            const target = stream.dataTarget!;
            const offsets = [target.reserveFrame(10)]; // before the headers: none
            stream.sendHeaders({ ":status": "200" });
            // Ten times the window, reserved, scribbled on and given back.
            for (let i = 0; i < 10; i++) {
              const at = target.reserveFrame(window);
              offsets.push(at);
              if (at >= 0) target.frameBuffer.fill(0xee, at, at + window);
              target.releaseFrame();
            }
            const at = target.reserveFrame(window);
            offsets.push(at);
            if (at >= 0) target.frameBuffer.fill(7, at, at + window);
            offsets.push(target.reserveFrame(1)); // the window is spent
            stream.sendTrailers({ "x-done": "1" });
            resolve(offsets);
          },
          onAbort: () => undefined,
          onDrain: () => undefined,
        });
      });
    });
    const client = await FrameClient.connect((server.address as { port: number }).port, { settings: [{ id: SettingsId.INITIAL_WINDOW_SIZE, value: window }] });
    try {
      client.sendHeaders(1, requestHeaders("/"), true);
      const body: number[] = [];
      for (;;) {
        const f = await client.next(3000);
        assert.ok(f !== undefined, "the response ends");
        if (f.type === "DATA" && f.streamId === 1) body.push(...f.data);
        if (f.type === "HEADERS" && f.streamId === 1 && f.endStream) break;
      }
      const offsets = await lent;
      assert.equal(offsets[0], -1, "no room before the headers");
      assert.ok(offsets.slice(1, 12).every((at) => at >= 0), `room for a whole window each time: ${offsets.join(", ")}`);
      assert.equal(offsets[12], -1, "no room past the window");
      assert.deepEqual(body, new Array(window).fill(7), "only the bytes kept left, once");
    } finally {
      client.close();
      server.destroy();
      await server.closed();
    }
  });
});

describe("h2 server reading for a paused handler", () => {
  let server: TransportServer;
  let streams: ServerTransportStream[] = [];
  const received: number[] = [];
  const window = 65_536;

  before(async () => {
    server = await listenH2({ host: "127.0.0.1", port: 0 }, { initialWindowSize: window, connectionWindowSize: 4 * window }, (stream) => {
      const index = streams.length;
      streams.push(stream);
      received[index] = 0;
      stream.attach({
        onData: (chunk) => (received[index]! += chunk.length),
        onEnd: () => {
          stream.sendHeaders({ ":status": "200" });
          stream.sendTrailers({ "x-received": String(received[index]) });
        },
        onAbort: () => undefined,
        onDrain: () => undefined,
      });
      stream.pause();
    });
  });
  after(async () => {
    server.destroy();
    await server.closed();
  });

  test("a paused stream returns no window: one byte past it is FLOW_CONTROL_ERROR", async () => {
    streams = [];
    const client = await FrameClient.connect((server.address as { port: number }).port);
    try {
      client.sendHeaders(1, requestHeaders("/"), false);
      client.send((w) => {
        for (let sent = 0; sent < window; sent += 16_384) w.data(1, new Uint8Array(Math.min(16_384, window - sent)), false);
      });
      const update = await client.waitFor((f) => (f.type === "WINDOW_UPDATE" && f.streamId === 1 ? f : undefined), 300);
      assert.equal(update, undefined, "no stream window returned while paused");
      client.send((w) => w.data(1, new Uint8Array(1), false));
      const outcome = await client.outcome();
      assert.ok(outcome.kind === "rst" && outcome.streamId === 1 && outcome.code === Http2ErrorCode.FLOW_CONTROL_ERROR, describeOutcome(outcome));
      assert.equal(received[0], 0, "nothing was delivered while paused");
    } finally {
      client.close();
    }
  });

  test("resuming delivers the held data and returns the window", async () => {
    streams = [];
    const client = await FrameClient.connect((server.address as { port: number }).port);
    try {
      client.sendHeaders(1, requestHeaders("/"), false);
      client.send((w) => {
        for (let sent = 0; sent < window; sent += 16_384) w.data(1, new Uint8Array(16_384), false);
      });
      while (streams.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(received[0], 0);
      streams[0]!.resume();
      const update = await client.waitFor((f) => (f.type === "WINDOW_UPDATE" && f.streamId === 1 ? f : undefined));
      assert.ok(update !== undefined && update.increment >= window / 2, "the window comes back once the data is read");
      assert.equal(received[0], window);
      client.send((w) => w.data(1, new Uint8Array(100), true));
      const res = await client.response(1);
      assert.equal(res.headers[1]?.["x-received"], String(window + 100));
    } finally {
      client.close();
    }
  });
});
