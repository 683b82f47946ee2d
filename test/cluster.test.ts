/**
 * The Route Guide on node:cluster (examples/route-guide/cluster.ts, src/server/cluster.ts),
 * run as a child process with 2 workers on 127.0.0.1, for each server transport: every
 * worker reports SERVING; two rolling restarts (SIGHUP) under continuous load fail no
 * call, a stream spanning the restart finishes after its worker turned NOT_SERVING, and
 * calls reach old and new workers; a killed worker is replaced; SIGTERM lets in-flight
 * streams finish and stops every process. Only the processes this file started are signalled, by PID.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, GrpcError, ServingStatus, SubchannelPool, createChannel, createClient, type Channel, type Client, type Metadata } from "../src/index.js";
import { Health } from "../src/gen/grpc/health/v1/health_pb.js";
import { RouteGuide, type RouteNoteSchema } from "../examples/route-guide/gen/route_guide_pb.js";
import { testTransport } from "./helpers/server.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));
/** Generous: three tsx processes start on 2 shared cores. */
const startupMs = 60_000;
const callTimeoutMs = 30_000;
const eiffel = { latitude: 488_584_000, longitude: 22_945_000 };

/** Rejects with `what` if `promise` has not settled within `ms`; the timer never outlives it. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function workerPidOf(header: Metadata): number {
  const pid = Number(header.getString("x-worker-pid"));
  assert.ok(Number.isInteger(pid) && pid > 0, `x-worker-pid ${header.getString("x-worker-pid")}`);
  return pid;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The example's primary process, and what its output says about its workers. */
class ClusterProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  port = 0;
  /** The worker PIDs of the last report (startup, or the end of a rolling restart). */
  workers: number[] = [];
  /** Every worker PID ever reported, to make sure none outlives the test. */
  readonly everyWorker = new Set<number>();
  readonly stderr: string[] = [];
  private waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];

  constructor(transport: "node-http2" | "h2") {
    this.child = spawn(process.execPath, ["--import", "tsx", "examples/route-guide/cluster.ts"], {
      cwd: repoRoot,
      env: { ...process.env, HOST: "127.0.0.1", PORT: "0", WORKERS: "2", GRPC_TS_TRANSPORT: transport },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.exited = new Promise((resolve) => this.child.once("exit", (code, signal) => resolve({ code, signal })));
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.onLine(line));
    createInterface({ input: this.child.stderr! }).on("line", (line) => {
      this.stderr.push(line);
      const workers = /workers: ([\d ]+)/.exec(line);
      if (workers !== null) {
        this.workers = workers[1]!.trim().split(" ").map(Number);
        for (const pid of this.workers) this.everyWorker.add(pid);
      }
      this.onLine(line);
    });
  }

  private onLine(line: string): void {
    for (const waiter of [...this.waiters]) {
      const match = waiter.pattern.exec(line);
      if (match === null) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve(match);
    }
  }

  /** The next line (stdout or stderr) matching `pattern`; fails if the process exits first. */
  nextLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const line = new Promise<RegExpExecArray>((resolve) => this.waiters.push({ pattern, resolve }));
    const exit = this.exited.then(({ code, signal }) => {
      throw new Error(`cluster exited (code ${code}, signal ${signal}) before printing ${pattern}:\n${this.stderr.join("\n")}`);
    });
    return within(Promise.race([line, exit]), timeoutMs, `${pattern} from the cluster; stderr:\n${this.stderr.join("\n")}`);
  }

  async start(): Promise<void> {
    const listening = this.nextLine(/^listening on 127\.0\.0\.1:(\d+)$/, startupMs);
    const pids = this.nextLine(/^2 workers: /, startupMs);
    this.port = Number((await listening)[1]);
    await pids;
  }

  /** SIGHUP, then the worker PIDs once the rolling restart is done. */
  async rollingRestart(): Promise<number[]> {
    const done = this.nextLine(/^rolling restart (done|stopped)/, 90_000);
    this.child.kill("SIGHUP");
    const line = await done;
    assert.equal(line[1], "done", this.stderr.join("\n"));
    return this.workers;
  }

  /** Stops whatever of ours is still running: SIGTERM, then SIGKILL by PID. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill("SIGTERM");
      const gone = await within(this.exited, 20_000, "exit after SIGTERM").then(() => true, () => false);
      if (!gone) this.child.kill("SIGKILL");
      await this.exited;
    }
    for (const pid of this.everyWorker) if (isAlive(pid)) process.kill(pid, "SIGKILL");
  }
}

/** Unary GetFeature calls in closed loops, several per channel, counting successes per worker. */
class UnaryLoad {
  ok = 0;
  readonly failures: string[] = [];
  readonly byWorker = new Map<number, number>();
  private stopped = false;
  private readonly loops: Promise<void>[] = [];

  constructor(clients: readonly Client<typeof RouteGuide>[], callersPerClient: number) {
    for (const client of clients) for (let i = 0; i < callersPerClient; i++) this.loops.push(this.loop(client));
  }

  private async loop(client: Client<typeof RouteGuide>): Promise<void> {
    while (!this.stopped) {
      let pid = 0;
      try {
        const feature = await client.getFeature(eiffel, { timeoutMs: callTimeoutMs, onHeader: (h) => (pid = workerPidOf(h)) });
        assert.match(feature.name, /Eiffel/);
        this.ok++;
        this.byWorker.set(pid, (this.byWorker.get(pid) ?? 0) + 1);
      } catch (err) {
        this.failures.push(err instanceof Error ? err.message : String(err));
      }
    }
  }

  /** Resolves once `more` further calls succeeded. */
  async progress(more: number): Promise<void> {
    const goal = this.ok + more;
    await within((async () => {
      while (this.ok < goal) await sleep(20);
    })(), 60_000, `${more} more calls (ok ${this.ok}, failures ${this.failures.length})`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

type NoteInit = MessageInitShape<typeof RouteNoteSchema>;

/** RouteChat notes at one location every `intervalMs` (at least two) until `until` settles, then `thenMore` more. */
async function* notesUntil(location: { latitude: number; longitude: number }, until: Promise<void>, thenMore: number, intervalMs = 100): AsyncIterable<NoteInit> {
  let settled = false;
  void until.then(() => (settled = true));
  let i = 0;
  while (!settled || i < 2) {
    yield { location, message: `note ${i++}` };
    await sleep(intervalMs);
  }
  for (let end = i + thenMore; i < end; i++) {
    yield { location, message: `note ${i}` };
    await sleep(intervalMs);
  }
}

/** Runs RouteChat over `notes` and counts the replies: at one location, note i is answered with the i notes before it. */
async function chat(client: Client<typeof RouteGuide>, notes: AsyncIterable<NoteInit>, on: { pid(pid: number): void; reply?(): void }): Promise<number> {
  let replies = 0;
  for await (const _ of client.routeChat(notes, { timeoutMs: 90_000, onHeader: (h) => on.pid(workerPidOf(h)) })) {
    replies++;
    on.reply?.();
  }
  return replies;
}

/** The number of notes a chat sent, from its reply count n(n-1)/2 (which must be exact). */
function notesFromReplies(replies: number): number {
  const n = Math.round((1 + Math.sqrt(1 + 8 * replies)) / 2);
  assert.equal((n * (n - 1)) / 2, replies, `${replies} replies is no n(n-1)/2: a note went unanswered`);
  return n;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** A location no other call uses (the service keeps notes per location, per worker). */
let nextLocation = 1;
const uniqueLocation = () => ({ latitude: 100_000_000 + nextLocation++, longitude: process.pid });

for (const transport of ["node-http2", "h2"] as const) {
  describe(`route guide cluster, 2 workers on the ${transport} transport`, { concurrency: false }, () => {
    let cluster: ClusterProcess;
    const channels: Channel[] = [];
    const openClient = () => {
      // Its own subchannel pool: channels to one target otherwise share one connection, so one worker.
      const channel = createChannel(`127.0.0.1:${cluster.port}`, undefined, { transport: testTransport, subchannelPool: new SubchannelPool() });
      channels.push(channel);
      return channel;
    };

    before(async () => {
      cluster = new ClusterProcess(transport);
      await cluster.start();
    });
    after(async () => {
      for (const channel of channels.splice(0)) channel.close();
      await cluster.stop();
    });

    test("health reports SERVING from every worker", async () => {
      const seen = new Map<number, ServingStatus[]>();
      // A channel here is one connection, and the primary hands connections out in turn.
      for (let i = 0; i < 20 && seen.size < 2; i++) {
        const health = createClient(Health, openClient());
        let pid = 0;
        const overall = await health.check({ service: "" }, { timeoutMs: callTimeoutMs, onHeader: (h) => (pid = workerPidOf(h)) });
        const routeGuide = await health.check({ service: RouteGuide.typeName }, { timeoutMs: callTimeoutMs });
        seen.set(pid, [overall.status, routeGuide.status]);
      }
      assert.deepEqual([...seen.keys()].sort(), [...cluster.workers].sort());
      for (const statuses of seen.values()) assert.deepEqual(statuses, [ServingStatus.SERVING, ServingStatus.SERVING]);
    });

    test("two rolling restarts under load fail no call, and a stream spanning one finishes on its retiring worker", async (t) => {
      const first = [...cluster.workers];
      const load = new UnaryLoad(Array.from({ length: 4 }, () => createClient(RouteGuide, openClient())), 2);
      // A chat and a health watch on one channel share its connection, so one worker.
      // The chat goes on until that worker turned NOT_SERVING, then sends a few more notes.
      const notServing = deferred();
      const watchAbort = new AbortController();
      try {
        const chatChannel = openClient();
        const notesAfterNotServing = 5;
        let chatPid = 0;
        let watchPid = 0;
        const chatDone = chat(createClient(RouteGuide, chatChannel), notesUntil(uniqueLocation(), notServing.promise, notesAfterNotServing), { pid: (pid) => (chatPid = pid) });
        const watched: ServingStatus[] = [];
        const watchDone = (async () => {
          try {
            const updates = createClient(Health, chatChannel).watch({ service: "" }, { signal: watchAbort.signal, onHeader: (h) => (watchPid = workerPidOf(h)) });
            for await (const res of updates) {
              watched.push(res.status);
              if (res.status === ServingStatus.NOT_SERVING) {
                notServing.resolve();
                watchAbort.abort();
              }
            }
          } catch (err) {
            if (!(err instanceof GrpcError && err.code === Code.CANCELLED && watchAbort.signal.aborted)) throw err;
          }
        })();

        await load.progress(50);
        const second = await cluster.rollingRestart();
        await load.progress(50);
        const third = await cluster.rollingRestart();
        await load.progress(50);
        await load.stop();
        const replies = await within(chatDone, 30_000, "the chat to end");
        await watchDone;

        assert.deepEqual(load.failures, []);
        for (const generation of [second, third]) {
          assert.equal(generation.length, 2);
          for (const pid of generation) assert.ok(!first.includes(pid), `${pid} is a new worker`);
        }
        const servedBy = [...load.byWorker.keys()];
        assert.ok(servedBy.some((pid) => first.includes(pid)), `calls by worker: ${JSON.stringify([...load.byWorker])}; first workers ${first}`);
        assert.ok(servedBy.some((pid) => third.includes(pid)), `calls by worker: ${JSON.stringify([...load.byWorker])}; last workers ${third}`);
        // The chat ran on a first-generation worker from before the restart until after
        // that worker turned NOT_SERVING (and sent GOAWAY), and every note was answered.
        assert.ok(first.includes(chatPid), `chat on ${chatPid}, first workers ${first}`);
        assert.equal(watchPid, chatPid);
        assert.deepEqual(watched, [ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
        assert.ok(notesFromReplies(replies) >= 2 + notesAfterNotServing, `${replies} replies`);
        for (const pid of [...first, ...second]) assert.equal(isAlive(pid), false, `retired worker ${pid} exited`);
        t.diagnostic(`${load.ok} calls OK by worker: ${JSON.stringify([...load.byWorker])}; workers ${first} → ${second} → ${third}; chat on ${chatPid}: ${replies} replies`);
      } finally {
        notServing.resolve();
        watchAbort.abort();
        await load.stop();
      }
    });

    test("a worker that dies is replaced, and the replacement serves", async () => {
      const [victim, survivor] = cluster.workers as [number, number];
      const reported = cluster.nextLine(new RegExp(`^worker ${victim} exited unexpectedly \\(code null, signal SIGKILL\\)`), 10_000);
      process.kill(victim, "SIGKILL"); // a worker of the cluster this file started
      await reported;
      // New connections find the replacement once it listens (restartDelayMs is 1 s).
      let replacement: number | undefined;
      await within((async () => {
        while (replacement === undefined) {
          let pid = 0;
          const res = await createClient(Health, openClient()).check({ service: "" }, { timeoutMs: callTimeoutMs, onHeader: (h) => (pid = workerPidOf(h)) })
            .catch(() => undefined); // while no worker listens for a moment: connection refused
          if (res?.status === ServingStatus.SERVING && pid !== survivor) replacement = pid;
          else await sleep(100);
        }
      })(), 60_000, "a replacement worker to answer");
      assert.notEqual(replacement, victim);
      cluster.workers = [survivor, replacement!];
      cluster.everyWorker.add(replacement!);
    });

    test("SIGTERM lets in-flight streams finish, then every process exits", async () => {
      const workers = [...cluster.workers];
      const terminated = deferred();
      const notesAfterTerm = 3;
      // Chats on their own connections, opened one by one until both workers run some.
      const pids = new Set<number>();
      const chats: Promise<number>[] = [];
      for (let i = 0; i < 12 && (chats.length < 4 || pids.size < 2); i++) {
        const answered = deferred();
        const notes = notesUntil(uniqueLocation(), terminated.promise, notesAfterTerm);
        chats.push(chat(createClient(RouteGuide, openClient()), notes, { pid: (pid) => pids.add(pid), reply: answered.resolve }));
        await within(answered.promise, 30_000, "a chat to be answered");
      }
      assert.deepEqual([...pids].sort(), [...workers].sort());
      const shuttingDown = cluster.nextLine(/^SIGTERM: shutting down/, 10_000);
      cluster.child.kill("SIGTERM");
      await shuttingDown;
      await sleep(500); // the workers sent GOAWAY by now; the chats go on
      terminated.resolve();
      const replies = await within(Promise.all(chats), 30_000, "the chats to end");
      for (const r of replies) assert.ok(notesFromReplies(r) >= 2 + notesAfterTerm, `${r} replies`);
      assert.deepEqual(await within(cluster.exited, 30_000, "the primary to exit"), { code: 0, signal: null });
      for (const pid of cluster.everyWorker) assert.equal(isAlive(pid), false, `worker ${pid} exited`);
      const late = createClient(RouteGuide, openClient()).getFeature(eiffel, { timeoutMs: 5_000 });
      await assert.rejects(late, (err: unknown) => err instanceof GrpcError && err.code === Code.UNAVAILABLE);
    });
  });
}

