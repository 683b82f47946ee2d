/**
 * Every core of a host: one port served by N worker processes with node:cluster. The
 * primary owns the listening socket and hands each new connection to a worker (round
 * robin on Linux); it runs no gRPC itself. It must not share a Server between processes:
 * each worker builds its own with `setup`, listening on the same address.
 */
import cluster, { type Worker } from "node:cluster";
import * as net from "node:net";
import { availableParallelism } from "node:os";
import { serverCredentials, type ServerCredentials } from "./credentials.js";
import { parseListenAddress, type ListenAddress } from "./listen-address.js";
import { Server, type ServerOptions } from "./server.js";

export interface ClusterOptions {
  /** Where every worker listens: "host:port" or "unix:path". Port 0 is resolved once, in the primary. */
  address: string;
  /** Worker processes. Default os.availableParallelism(). */
  workers?: number;
  credentials?: ServerCredentials;
  /** Options of each worker's Server. */
  server?: ServerOptions;
  /** Runs in each worker before it listens: add services (and addHealthService, so balancers see a retiring worker drain). */
  setup: (server: Server) => void | Promise<void>;
  /** How long a retiring worker's running calls may go on before they are cancelled. Default 30 s. */
  graceMs?: number;
  /** Wait before replacing a worker that exited on its own (a crash loop then costs one fork per wait). Default 1 s. */
  restartDelayMs?: number;
  /** In the primary: a worker exited unplanned (it is replaced after restartDelayMs). For logs. */
  onWorkerExit?: (pid: number, code: number | null, signal: string | null) => void;
}

/** In the primary: the workers, and the operations on all of them. */
export interface ClusterPrimary {
  readonly role: "primary";
  /** The address every worker listens on, port 0 resolved. */
  readonly address: ListenAddress;
  /** PIDs of the workers serving now (a replacement counts once it listens; a retiring one no longer does). */
  workerPids(): number[];
  /**
   * Replaces every worker, one at a time: fork the replacement, wait until it listens,
   * then shut the old one down gracefully (health NOT_SERVING, GOAWAY, running calls
   * finish within graceMs) and wait for it to exit. Calls made meanwhile go to the
   * others, so none is lost. Concurrent calls share one restart. Rejects, leaving the
   * old worker serving, if a replacement fails to listen.
   */
  rollingRestart(): Promise<void>;
  /** Shuts every worker down gracefully (within graceMs) and resolves once all exited. Unplanned exits are no longer replaced. */
  shutdown(): Promise<void>;
}

/** In a worker: its own Server, already listening. */
export interface ClusterWorker {
  readonly role: "worker";
  readonly server: Server;
  readonly address: ListenAddress;
}

/** Primary → worker and worker → primary, over the cluster's IPC channel. */
type ClusterMessage =
  | { grpcTsCluster: "listening"; address: ListenAddress }
  | { grpcTsCluster: "failed"; error: string }
  | { grpcTsCluster: "shutdown"; graceMs: number };

const addressEnv = "GRPC_TS_CLUSTER_ADDRESS";
const defaultGraceMs = 30_000;
/** After graceMs the worker's Server cancels what runs; a worker still alive this much later is killed. */
const killAfterGraceMs = 5_000;

function isClusterMessage(message: unknown): message is ClusterMessage {
  return typeof message === "object" && message !== null && "grpcTsCluster" in message;
}

/**
 * Serves `setup`'s services from `workers` processes sharing one address. The same
 * script runs in the primary and in each worker (node:cluster forks process.argv[1]
 * with the same execArgv), so call this at the top level of the entry script, the same
 * way in both: the primary gets a ClusterPrimary once every worker listens, a worker
 * gets its Server. Rejects in the primary if a first worker fails to listen (the others
 * are then stopped). Signals are the caller's to wire in the primary (the Route Guide
 * example: SIGTERM → shutdown, SIGHUP → rollingRestart); a worker shuts itself down
 * gracefully on SIGTERM or SIGINT (a terminal's Ctrl-C reaches every process in its
 * group) and when its primary is gone.
 */
export async function serveCluster(options: ClusterOptions): Promise<ClusterPrimary | ClusterWorker> {
  return cluster.isPrimary ? startPrimary(options) : startWorker(options);
}

async function startWorker(options: ClusterOptions): Promise<ClusterWorker> {
  const server = new Server(options.server);
  // Listened for from the start: a worker told to stop while it still starts must stop too
  // (its listen then fails, or its shutdown finds nothing to wait for).
  let stopping = false;
  const stop = (graceMs: number) => {
    if (stopping) return;
    stopping = true;
    void server.shutdown({ graceMs }).then(() => process.exit(0));
  };
  const graceMs = options.graceMs ?? defaultGraceMs;
  process.on("message", (message: unknown) => {
    if (isClusterMessage(message) && message.grpcTsCluster === "shutdown") stop(message.graceMs);
  });
  process.on("SIGTERM", () => stop(graceMs));
  process.on("SIGINT", () => stop(graceMs));
  // The primary died (even by SIGKILL): no one would ever stop this worker.
  process.on("disconnect", () => stop(graceMs));
  let address: ListenAddress;
  try {
    await options.setup(server);
    address = await server.listen(process.env[addressEnv] ?? options.address, options.credentials ?? serverCredentials.insecure());
  } catch (err) {
    const failed: ClusterMessage = { grpcTsCluster: "failed", error: err instanceof Error ? err.message : String(err) };
    // Exiting at once could drop the message: the IPC write is asynchronous.
    const send = process.send?.bind(process);
    if (send !== undefined) await new Promise<void>((resolve) => send(failed, undefined, undefined, () => resolve()));
    process.exit(1);
  }
  process.send?.({ grpcTsCluster: "listening", address } satisfies ClusterMessage);
  return { role: "worker", server, address };
}

type WorkerState = "starting" | "serving" | "retiring";

async function startPrimary(options: ClusterOptions): Promise<ClusterPrimary> {
  const count = options.workers ?? availableParallelism();
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`serveCluster: workers must be a positive integer, got ${count}`);
  const graceMs = options.graceMs ?? defaultGraceMs;
  const restartDelayMs = options.restartDelayMs ?? 1_000;
  // Workers must all ask for the same address: node:cluster shares one listening socket
  // per distinct address, and a second socket on the same port would fail EADDRINUSE.
  const address = await resolvePortZero(options.address);
  const states = new Map<Worker, WorkerState>();
  const restartTimers = new Set<ReturnType<typeof setTimeout>>();
  let shuttingDown = false;
  let restarting: Promise<void> | undefined;
  let listeningOn: ListenAddress | undefined;

  /**
   * Forks one worker; resolves once it listens, rejects if it exits or fails first. Its
   * exit is unplanned, and replaced, once it listened; before, only if `replaceIfStartFails`
   * (a rolling restart rather gives up and keeps the old worker).
   */
  function fork(replaceIfStartFails: boolean): Promise<Worker> {
    const worker = cluster.fork({ [addressEnv]: address });
    states.set(worker, "starting");
    worker.on("error", () => undefined); // a send to a worker that just died; its 'exit' follows
    return new Promise((resolve, reject) => {
      worker.on("message", (message: unknown) => {
        if (!isClusterMessage(message)) return;
        if (message.grpcTsCluster === "listening") {
          listeningOn ??= message.address;
          if (states.get(worker) === "starting") states.set(worker, "serving");
          // Told to stop while it started: it may not have been listening for messages yet.
          else if (states.get(worker) === "retiring") worker.send({ grpcTsCluster: "shutdown", graceMs } satisfies ClusterMessage);
          resolve(worker);
        } else if (message.grpcTsCluster === "failed") {
          reject(new Error(`worker ${worker.process.pid} failed to start: ${message.error}`));
        }
      });
      worker.once("exit", (code: number | null, signal: string | null) => {
        const state = states.get(worker);
        states.delete(worker);
        reject(new Error(`worker ${worker.process.pid} exited (code ${code}, signal ${signal}) before it listened`));
        if (state === "retiring" || shuttingDown || (state === "starting" && !replaceIfStartFails)) return;
        options.onWorkerExit?.(worker.process.pid ?? 0, code, signal);
        replaceLater();
      });
    });
  }

  function replaceLater(): void {
    const timer = setTimeout(() => {
      restartTimers.delete(timer);
      if (!shuttingDown) fork(true).catch(() => undefined); // a failed replacement exits, which schedules the next
    }, restartDelayMs);
    restartTimers.add(timer);
  }

  /** Graceful shutdown of one worker; resolves when it exited. */
  function retire(worker: Worker): Promise<void> {
    states.set(worker, "retiring");
    return new Promise((resolve) => {
      if (worker.isDead()) return resolve();
      const kill = setTimeout(() => worker.process.kill("SIGKILL"), graceMs + killAfterGraceMs);
      worker.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      if (worker.isConnected()) worker.send({ grpcTsCluster: "shutdown", graceMs } satisfies ClusterMessage);
      else worker.process.kill("SIGTERM");
    });
  }

  const first = await Promise.allSettled(Array.from({ length: count }, () => fork(false)));
  const failed = first.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed !== undefined) {
    shuttingDown = true;
    await Promise.all([...states.keys()].map(retire));
    throw failed.reason;
  }

  async function restartAll(): Promise<void> {
    const old = [...states].filter(([, state]) => state === "serving").map(([worker]) => worker);
    for (const worker of old) {
      if (shuttingDown) return;
      if (states.get(worker) !== "serving") continue; // it died meanwhile and was replaced
      await fork(false);
      await retire(worker);
    }
  }

  return {
    role: "primary",
    address: listeningOn!,
    workerPids: () => [...states].filter(([, s]) => s === "serving").map(([w]) => w.process.pid!),
    rollingRestart() {
      if (shuttingDown) return Promise.reject(new Error("the cluster is shutting down"));
      restarting ??= restartAll().finally(() => (restarting = undefined));
      return restarting;
    },
    async shutdown() {
      shuttingDown = true;
      for (const timer of restartTimers) clearTimeout(timer);
      restartTimers.clear();
      await Promise.all([...states.keys()].map(retire));
    },
  };
}

/** "host:0" becomes "host:<a free port>"; other addresses are returned as they are. */
async function resolvePortZero(address: string): Promise<string> {
  const target = parseListenAddress(address);
  if (!("port" in target) || target.port !== 0) return address;
  const probe = net.createServer();
  const port = await new Promise<number>((resolve, reject) => {
    probe.once("error", reject);
    probe.listen(0, target.host, () => resolve((probe.address() as net.AddressInfo).port));
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return target.host.includes(":") ? `[${target.host}]:${port}` : `${target.host}:${port}`;
}
