/**
 * Load client for the memory scenarios, the same for every server (bare node:http2):
 * opens connections (one unary call each, so the server has set each one up), then
 * on the orchestrator's word opens bidi streams and keeps them open (one echo each,
 * so each handler is running), then ends them all and counts the OK statuses.
 * The orchestrator reads the server's memory between the steps.
 */
import type { ClientHttp2Session } from "node:http2";
import { exitWithParent, nextParentMessage, sendToParent } from "../lib/ipc.js";
import { connectBare, createBareAdapter } from "./bare-adapter.js";
import type { PingPongStream } from "./driver.js";

export interface HoldJob {
  port: number;
  connections: number;
  /** Bidi streams opened in all, spread evenly over the connections. */
  streams: number;
  /** Message size of the unary calls and the echoes. */
  size: number;
}

export type HoldReport =
  | { type: "connected"; okUnary: number }
  | { type: "opened"; echoed: number }
  | { type: "done"; okStreams: number; failedStreams: number; firstError: string | undefined };

export type HoldCommand = { type: "open" } | { type: "finish" };

function isCommand<T extends HoldCommand["type"]>(type: T) {
  return (message: unknown): message is Extract<HoldCommand, { type: T }> =>
    typeof message === "object" && message !== null && (message as { type?: unknown }).type === type;
}

/** Connecting in batches keeps the accept queue (backlog 511) from overflowing into SYN retries. */
const connectBatch = 100;

async function main(): Promise<void> {
  exitWithParent();
  const job = JSON.parse(process.argv[2] ?? "") as HoldJob;
  const body = new Uint8Array(job.size).fill(7);
  const sessions: ClientHttp2Session[] = [];
  let okUnary = 0;
  for (let i = 0; i < job.connections; i += connectBatch) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(connectBatch, job.connections - i) }, async () => {
        const session = await connectBare(job.port);
        const length = await createBareAdapter(session).unary(body);
        if (length === job.size) okUnary++;
        return session;
      }),
    );
    sessions.push(...batch);
  }
  sendToParent({ type: "connected", okUnary } satisfies HoldReport);

  await nextParentMessage(isCommand("open"));
  const adapters = sessions.map(createBareAdapter);
  const streams: PingPongStream[] = Array.from({ length: job.streams }, (_, i) => adapters[i % adapters.length]!.openPingPong());
  const echoes = await Promise.allSettled(streams.map((s) => s.roundTrip(body)));
  const echoed = echoes.filter((r) => r.status === "fulfilled" && r.value === job.size).length;
  sendToParent({ type: "opened", echoed } satisfies HoldReport);

  await nextParentMessage(isCommand("finish"));
  const ends = await Promise.allSettled(streams.map((s) => s.end()));
  const failures = ends.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  for (const session of sessions) session.close();
  sendToParent({
    type: "done",
    okStreams: ends.length - failures.length,
    failedStreams: failures.length,
    firstError: failures[0] === undefined ? undefined : String(failures[0].reason),
  } satisfies HoldReport);
  setTimeout(() => process.exit(0), 100).unref();
}

await main();
