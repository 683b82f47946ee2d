/**
 * The closed-loop load of our own clients: N workers each start the next operation
 * as soon as the last one ends, for a warm-up and then a measured window. The same
 * driver runs every client library (clients/grpc-ts.ts, grpc-js.ts, h2-bare.ts), so
 * only the library differs. Reports over IPC; never talks to anything but 127.0.0.1.
 */
import { performance } from "node:perf_hooks";
import { exitWithParent, sendToParent } from "../lib/ipc.js";
import { SampleBuffer, type LatencySummary } from "../lib/stats.js";

export type ClientJob =
  | { kind: "unary"; port: number; size: number; concurrency: number; warmupMs: number; durationMs: number }
  | { kind: "serverStream"; port: number; count: number; size: number; concurrency: number; warmupMs: number; durationMs: number }
  | { kind: "clientStream"; port: number; count: number; size: number; concurrency: number; warmupMs: number; durationMs: number }
  /** `concurrency` bidi streams, each sending its next message only when the last one's echo arrived. */
  | { kind: "pingpong"; port: number; size: number; concurrency: number; warmupMs: number; durationMs: number };

/** One lockstep bidi stream. */
export interface PingPongStream {
  /** Sends one message and resolves with the echoed body's length. */
  roundTrip(body: Uint8Array): Promise<number>;
  /** Half-closes and resolves on an OK status. */
  end(): Promise<void>;
}

/** What each client library implements; every method rejects on a non-OK status. */
export interface ClientAdapter {
  /** Resolves with the response body's length. */
  unary(body: Uint8Array): Promise<number>;
  /** Resolves with the number of messages received. */
  serverStream(count: number, size: number): Promise<number>;
  /** Sends `count` messages of `body`; resolves with the count the server reported. */
  clientStream(count: number, body: Uint8Array): Promise<number>;
  openPingPong(): PingPongStream;
  close(): void;
}

export type ClientReport =
  | { type: "measure-start" }
  | { type: "measure-end" }
  | {
      type: "result";
      /** Operations completed inside the measured window: calls, or round trips for pingpong. */
      ops: number;
      windowMs: number;
      latency: LatencySummary;
      /** This process's user + system CPU inside the window. */
      cpuUs: number;
      rssBytes: number;
      /** Every call that ended OK, warm-up included (for pingpong: streams), to compare with the server's count. */
      okCallsTotal: number;
      /** Every message round trip, warm-up included (pingpong only). */
      messagesTotal: number;
    };

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

export async function runClientJob(job: ClientJob, adapter: ClientAdapter): Promise<Extract<ClientReport, { type: "result" }>> {
  const body = new Uint8Array(job.size).fill(7);
  const samples = new SampleBuffer();
  let phase: "warmup" | "measure" | "stop" = "warmup";
  let ops = 0;
  let okCallsTotal = 0;
  let messagesTotal = 0;

  const record = (start: number) => {
    if (phase !== "measure") return;
    ops++;
    samples.push((performance.now() - start) * 1000);
  };

  let worker: () => Promise<void>;
  switch (job.kind) {
    case "unary":
      worker = async () => {
        while (phase !== "stop") {
          const start = performance.now();
          const length = await adapter.unary(body);
          check(length === job.size, `unary: echoed ${length} bytes, sent ${job.size}`);
          okCallsTotal++;
          record(start);
        }
      };
      break;
    case "serverStream":
      worker = async () => {
        while (phase !== "stop") {
          const start = performance.now();
          const received = await adapter.serverStream(job.count, job.size);
          check(received === job.count, `serverStream: received ${received} messages, asked for ${job.count}`);
          okCallsTotal++;
          record(start);
        }
      };
      break;
    case "clientStream":
      worker = async () => {
        while (phase !== "stop") {
          const start = performance.now();
          const counted = await adapter.clientStream(job.count, body);
          check(counted === job.count, `clientStream: server counted ${counted} messages, sent ${job.count}`);
          okCallsTotal++;
          record(start);
        }
      };
      break;
    case "pingpong":
      worker = async () => {
        const stream = adapter.openPingPong();
        while (phase !== "stop") {
          const start = performance.now();
          const length = await stream.roundTrip(body);
          check(length === job.size, `pingpong: echoed ${length} bytes, sent ${job.size}`);
          messagesTotal++;
          record(start);
        }
        await stream.end();
        okCallsTotal++;
      };
      break;
    default:
      job satisfies never;
      throw new Error("unknown job");
  }

  const workers = Array.from({ length: job.concurrency }, () => worker());
  const failure = Promise.all(workers).then(() => undefined);
  let windowStart = 0;
  let cpuStart = process.cpuUsage();
  let windowMs = 0;
  let cpuUs = 0;
  let endTimer: ReturnType<typeof setTimeout> | undefined;
  const warmupTimer = setTimeout(() => {
    phase = "measure";
    windowStart = performance.now();
    cpuStart = process.cpuUsage();
    sendToParent({ type: "measure-start" } satisfies ClientReport);
  }, job.warmupMs);
  const stopped = new Promise<void>((resolve) => {
    endTimer = setTimeout(() => {
      phase = "stop";
      windowMs = performance.now() - windowStart;
      const cpu = process.cpuUsage(cpuStart);
      cpuUs = cpu.user + cpu.system;
      sendToParent({ type: "measure-end" } satisfies ClientReport);
      resolve();
    }, job.warmupMs + job.durationMs);
  });
  try {
    await Promise.race([failure, stopped]);
    await failure; // the operations in flight at the end finish: totals stay exact
  } finally {
    clearTimeout(warmupTimer);
    clearTimeout(endTimer);
  }
  return {
    type: "result",
    ops,
    windowMs,
    latency: samples.summarize(),
    cpuUs,
    rssBytes: process.memoryUsage.rss(),
    okCallsTotal,
    messagesTotal,
  };
}

/** The main of a client process: argv[2] is the job as JSON; the result goes to the parent, then the process exits. */
export async function clientMain(createAdapter: (port: number) => ClientAdapter | Promise<ClientAdapter>): Promise<void> {
  exitWithParent();
  const job = JSON.parse(process.argv[2] ?? "") as ClientJob;
  const adapter = await createAdapter(job.port);
  try {
    const result = await runClientJob(job, adapter);
    sendToParent(result);
  } finally {
    adapter.close();
  }
  // Let the IPC message flush, then go: a client library may keep timers alive.
  setTimeout(() => process.exit(0), 100).unref();
}
