/**
 * Connection backoff (connection-backoff.md) seen from the server side: a listening
 * socket that accepts and closes at once (or never answers) records when each
 * connection attempt arrives, so the spacing the channel's backoff options ask for can
 * be checked on real sockets. Tolerances are generous: timers never fire early, but
 * two shared cores may fire them late.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { Server, createChannel, type Channel, type ChannelOptions } from "../../src/index.js";
import type { ConnectivityState } from "../../src/client/connectivity.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService, testTransport } from "../helpers/server.js";

const slackMs = 400;
const cleanup: (() => unknown)[] = [];
after(async () => {
  for (const step of cleanup.reverse()) await step();
});

interface AttemptRecorder {
  readonly port: number;
  /** Arrival time (ms, performance.now) of each connection. */
  readonly arrivals: number[];
  /** For each connection, how long the client kept it open (set when it closes). */
  readonly openMs: (number | undefined)[];
  close(): Promise<void>;
}

/**
 * A TCP listener that records each connection; `hangUp` closes it at once (the HTTP/2
 * handshake never completes), otherwise it is held open in silence.
 */
async function startRecorder(hangUp: boolean, port = 0): Promise<AttemptRecorder> {
  const arrivals: number[] = [];
  const openMs: (number | undefined)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const index = arrivals.push(performance.now()) - 1;
    openMs.push(undefined);
    sockets.add(socket);
    socket.on("error", () => undefined);
    socket.on("close", () => {
      sockets.delete(socket);
      openMs[index] = performance.now() - arrivals[index]!;
    });
    if (hangUp) socket.destroy();
    else socket.resume(); // read (and drop) the client preface, so its FIN is seen
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const recorder: AttemptRecorder = {
    port: (server.address() as net.AddressInfo).port,
    arrivals,
    openMs,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  cleanup.push(() => recorder.close());
  return recorder;
}

function channelTo(port: number, options: ChannelOptions): Channel {
  const channel = createChannel(`127.0.0.1:${port}`, undefined, { transport: testTransport, ...options });
  cleanup.push(() => channel.close());
  return channel;
}

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

const gaps = (times: readonly number[]) => times.slice(1).map((t, i) => Math.round(t - times[i]!));

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/**
 * Arrivals are measured at the server: one connection that arrives late (a busy event
 * loop) lengthens its own gap and shortens the next by as much, since attempts are due
 * a backoff after the previous one started. So single gaps are checked from above only
 * (timers fire late, never early), and from below as sums over several gaps.
 */
function checkGaps(got: readonly number[], want: readonly number[]): void {
  const shown = `gaps ${JSON.stringify(got)}, want ~${JSON.stringify(want)}`;
  for (const [i, w] of want.entries()) assert.ok(got[i]! <= w + slackMs, `gap ${i} too long: ${shown}`);
  // Everything after the first gap (the first connection of a process may arrive late).
  const total = sum(got.slice(1));
  const wanted = sum(want.slice(1));
  assert.ok(total >= wanted - 150 && total <= wanted + slackMs, `the attempts after the first span ${total} ms, want ~${wanted}: ${shown}`);
}

test("spaces reconnect attempts by the configured backoff: initial, × multiplier, capped at the maximum", async () => {
  const recorder = await startRecorder(true);
  const channel = channelTo(recorder.port, { backoff: { initialBackoffMs: 100, multiplier: 2, jitter: 0, maxBackoffMs: 500, minConnectTimeoutMs: 5_000 } });
  const states: ConnectivityState[] = [];
  channel.onStateChange((s) => states.push(s));
  channel.getConnectivityState(true);
  await waitFor(() => recorder.arrivals.length >= 6, 10_000);
  channel.close();
  const got = gaps(recorder.arrivals.slice(0, 6));
  checkGaps(got, [100, 200, 400, 500, 500]);
  // The cap: the last two gaps are 500 ms each, not 800 and 1 600.
  assert.ok(got[3]! + got[4]! >= 1_000 - 150 && got[3]! + got[4]! <= 1_000 + slackMs, `gaps ${JSON.stringify(got)}`);
  // A handshake that never completes is a failed attempt: never READY.
  assert.deepEqual(states.filter((s) => s !== "SHUTDOWN"), ["CONNECTING", "TRANSIENT_FAILURE"]);
});

test("keeps jittered backoff within ±jitter of the nominal delay", async () => {
  const recorder = await startRecorder(true);
  const channel = channelTo(recorder.port, { backoff: { initialBackoffMs: 200, multiplier: 1, jitter: 0.5, maxBackoffMs: 200, minConnectTimeoutMs: 5_000 } });
  channel.getConnectivityState(true);
  await waitFor(() => recorder.arrivals.length >= 7, 10_000);
  channel.close();
  const got = gaps(recorder.arrivals.slice(0, 7));
  for (const gap of got) assert.ok(gap <= 300 + slackMs, `gap ${gap} ms above 200 ms + 50% (gaps ${JSON.stringify(got)})`);
  // Five draws in [100, 300]: their sum stays within [500, 1 500].
  const total = sum(got.slice(1));
  assert.ok(total >= 500 - 150 && total <= 1_500 + slackMs, `gaps ${JSON.stringify(got)}`);
  // With ±50% jitter six equal gaps would be a remarkable coincidence.
  assert.ok(Math.max(...got) - Math.min(...got) >= 10, `gaps should vary: ${JSON.stringify(got)}`);
});

test("gives up on a connection attempt after minConnectTimeoutMs, then tries again at once", async () => {
  const recorder = await startRecorder(false);
  const channel = channelTo(recorder.port, { backoff: { initialBackoffMs: 100, multiplier: 1, jitter: 0, maxBackoffMs: 100, minConnectTimeoutMs: 300 } });
  channel.getConnectivityState(true);
  await waitFor(() => recorder.arrivals.length >= 4 && recorder.openMs[1] !== undefined, 10_000);
  assert.equal(channel.getConnectivityState(), "TRANSIENT_FAILURE");
  channel.close();
  // The client held each silent connection for the connect timeout, then closed it.
  for (const held of recorder.openMs.slice(0, 2)) assert.ok(held! >= 300 - 100 && held! <= 300 + slackMs, `held ${held} ms, want ~300`);
  // The next attempt is due a backoff (100 ms) after the start of the previous one,
  // long past when that one timed out: it follows the timeout at once.
  const got = gaps(recorder.arrivals.slice(0, 4));
  checkGaps(got, [300, 300, 300]);
});

test("resets the backoff after a successful connection", async () => {
  const options = { backoff: { initialBackoffMs: 100, multiplier: 2, jitter: 0, maxBackoffMs: 2_000, minConnectTimeoutMs: 5_000 } };
  let recorder = await startRecorder(true);
  const port = recorder.port;
  const channel = channelTo(port, options);
  const states: ConnectivityState[] = [];
  channel.onStateChange((s) => states.push(s));
  channel.getConnectivityState(true);
  // Attempts at ~0, 100, 300, 700: the next delay has grown to 800 ms.
  await waitFor(() => recorder.arrivals.length >= 4, 10_000);
  await recorder.close();
  const server = new Server({ transport: testTransport }).add(Echo, echoService);
  await server.listen(`127.0.0.1:${port}`);
  await waitFor(() => states.at(-1) === "READY", 10_000);
  // Lose the connection; put the hanging-up listener back on the same port.
  server.forceShutdown();
  await server.shutdown({ graceMs: 0 });
  await waitFor(() => states.at(-1) === "IDLE", 10_000);
  recorder = await startRecorder(true, port);
  channel.getConnectivityState(true);
  await waitFor(() => recorder.arrivals.length >= 4, 10_000);
  channel.close();
  // Without the reset these would be 800, 1 600 and 2 000 ms.
  checkGaps(gaps(recorder.arrivals.slice(0, 4)), [100, 200, 400]);
});
