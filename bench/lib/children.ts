/**
 * Child processes of a bench run: each pinned to one core with taskset, started by
 * file, talked to over IPC, stopped by PID (SIGTERM, then SIGKILL). Every child is
 * tracked, so an interrupted run leaves none behind.
 */
import fs from "node:fs";
import path from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { reapedChildrenCpuUs } from "./proc.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const live = new Set<ChildProcess>();

/** Kills every child still running (on exit, Ctrl-C, or a failed run). */
export function killAllChildren(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

/** Keeps the last `limit` characters a child wrote, to show when it fails. */
function tail(limit: number): { push(chunk: Buffer): void; text(): string } {
  let text = "";
  return {
    push(chunk) {
      text = (text + chunk.toString("utf8")).slice(-limit);
    },
    text: () => text,
  };
}

/** A running child with an IPC channel. */
export class PinnedChild {
  readonly pid: number;
  readonly exited: Promise<number | null>;
  private readonly inbox: unknown[] = [];
  private waiter: (() => void) | undefined;
  private readonly output = tail(4000);
  private exitCode: number | null | undefined;

  constructor(readonly label: string, private readonly child: ChildProcess) {
    if (child.pid === undefined) throw new Error(`${label}: failed to start`);
    this.pid = child.pid;
    live.add(child);
    child.stdout?.on("data", (chunk: Buffer) => this.output.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => this.output.push(chunk));
    child.on("error", (error) => this.output.push(Buffer.from(`\n[${label}] ${error.message}\n`)));
    child.on("message", (message: unknown) => {
      this.inbox.push(message);
      this.waiter?.();
    });
    this.exited = new Promise((resolve) => {
      child.on("exit", (code, signal) => {
        live.delete(child);
        this.exitCode = code ?? (signal === null ? null : -1);
        this.waiter?.();
        resolve(code);
      });
    });
  }

  /** What the child printed last (stdout and stderr). */
  get recentOutput(): string {
    return this.output.text();
  }

  /** Throws when the child is gone (its exit is what the caller should report). */
  send(message: unknown): void {
    if (!this.child.connected) throw new Error(`${this.label} exited (code ${this.exitCode ?? "?"})\n${this.recentOutput}`);
    this.child.send(message as Parameters<ChildProcess["send"]>[0]);
  }

  /**
   * The next message satisfying `accept` (earlier ones that do not are dropped).
   * Rejects if none comes within `timeoutMs` or the child exits first.
   */
  async next<T>(accept: (message: unknown) => message is T, timeoutMs: number, what: string): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.inbox.length > 0) {
        const message = this.inbox.shift();
        if (accept(message)) return message;
      }
      if (this.exitCode !== undefined) {
        throw new Error(`${this.label} exited (code ${this.exitCode}) while the bench waited for ${what}\n${this.recentOutput}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${this.label}: no ${what} within ${timeoutMs} ms\n${this.recentOutput}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (this.exitCode !== undefined) return;
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface StartOptions {
  /** CPU core to pin the process to (taskset -c). */
  core: number;
  /** A .ts file under the repository: its compiled .js when bench/run.sh built one, else the .ts with tsx. */
  file: string;
  args?: readonly string[];
  env?: NodeJS.ProcessEnv;
  label: string;
}

/** Where bench/run.sh puts the JavaScript tsc emits for src/ and bench/ (bench/tsconfig.build.json). */
export const buildDir = "bench/.build";

/**
 * The node arguments that run `file`: its tsc output when there is one, so grpc-ts is
 * measured as it runs once compiled, like the libraries it is compared with (tsx also
 * compiles with esbuild's keepNames, which calls a helper for every named closure it
 * creates: ~1.5 µs per client call in grpc-ts). Without a build, the .ts with tsx.
 */
export function nodeArgsFor(file: string): string[] {
  const compiled = path.join(buildDir, file.replace(/\.ts$/, ".js"));
  if (file.endsWith(".ts") && fs.existsSync(path.join(repoRoot, compiled))) return [compiled];
  return ["--import", "tsx", file];
}

/**
 * With BENCH_CPU_PROF_DIR set, every child writes a V8 CPU profile there when it exits
 * (node --cpu-prof): where a server or client spends its time under the bench's load.
 */
function profileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  return dir === undefined || dir === "" ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

/** Starts `node --expose-gc <file> <args>` (see nodeArgsFor) pinned to a core, with an IPC channel. */
export function startPinned(options: StartOptions): PinnedChild {
  const child = spawn(
    "taskset",
    ["-c", String(options.core), process.execPath, "--expose-gc", ...profileArgs(), ...nodeArgsFor(options.file), ...(options.args ?? [])],
    { cwd: repoRoot, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe", "ipc"] },
  );
  return new PinnedChild(options.label, child);
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The tool's user + system CPU time from start to exit (see reapedChildrenCpuUs). */
  cpuUs: number;
  /** Wall time from spawn to exit. */
  wallMs: number;
}

/**
 * Runs a command pinned to a core and collects its output; killed after `timeoutMs`.
 * taskset execs the command in place, so the child is the tool itself. Its CPU time is
 * exact while no other child of this process exits during its run: in the bench,
 * tools run one at a time and servers outlive them.
 */
export function runPinnedTool(core: number, command: string, args: readonly string[], timeoutMs: number): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const cpuBefore = reapedChildrenCpuUs();
    const startedAt = performance.now();
    const child = spawn("taskset", ["-c", String(core), command, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      live.delete(child);
      reject(error);
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      live.delete(child);
      if (timedOut) reject(new Error(`${command} did not finish within ${timeoutMs} ms\n${stderr.slice(-2000)}`));
      else resolve({ code, stdout, stderr, cpuUs: reapedChildrenCpuUs() - cpuBefore, wallMs: performance.now() - startedAt });
    });
  });
}
