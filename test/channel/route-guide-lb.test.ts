/**
 * The Route Guide example across several servers: three servers (child processes,
 * PORT=0) and the client with --target=ipv4:…,…,… --lb=… --repeat=N, whose last lines
 * say how many GetFeature calls each server answered (from its x-served-by header).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const children = new Set<ChildProcess>();

after(async () => {
  await Promise.all([...children].map(async (child) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }));
});

function run(script: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

async function startRouteGuideServer(): Promise<number> {
  const child = run("examples/route-guide/server.ts", [], { PORT: "0" });
  let output = "";
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${output}`)), 30_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on .*:(\d+)/.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code}): ${output}`));
    });
  });
}

async function runClient(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = run("examples/route-guide/client.ts", args);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stdout, stderr };
}

/** The `calls to <address>: <n>` lines, as port → calls. */
function callsPerPort(stdout: string): Map<number, number> {
  const calls = new Map<number, number>();
  for (const match of stdout.matchAll(/^calls to \S*:(\d+): (\d+)$/gm)) calls.set(Number(match[1]), Number(match[2]));
  return calls;
}

let ports: number[] = [];
before(async () => {
  ports = await Promise.all([startRouteGuideServer(), startRouteGuideServer(), startRouteGuideServer()]);
});

const target = () => `--target=ipv4:${ports.map((p) => `127.0.0.1:${p}`).join(",")}`;

test("--lb=round_robin --repeat=30 over three servers prints about 10 calls to each", async () => {
  const { code, stdout, stderr } = await runClient([target(), "--lb=round_robin", "--repeat=30"]);
  assert.equal(code, 0, `client failed:\n${stdout}\n${stderr}`);
  const calls = callsPerPort(stdout);
  assert.deepEqual([...calls.keys()].sort(), [...ports].sort(), stdout);
  for (const [port, n] of calls) assert.ok(n >= 8 && n <= 12, `server :${port} answered ${n} of 30 calls:\n${stdout}`);
  assert.equal([...calls.values()].reduce((a, b) => a + b, 0), 30);
  assert.match(stdout, /tour complete/);
});

test("--lb=pick_first sends all the calls to one server", async () => {
  const { code, stdout, stderr } = await runClient([target(), "--lb=pick_first", "--repeat=12"]);
  assert.equal(code, 0, `client failed:\n${stdout}\n${stderr}`);
  assert.deepEqual([...callsPerPort(stdout)], [[ports[0], 12]], stdout);
});

test("rejects an unknown --lb with a usage message and exit code 2", async () => {
  const { code, stderr } = await runClient([target(), "--lb=random"]);
  assert.equal(code, 2);
  assert.match(stderr, /usage: .*--lb=pick_first\|round_robin/);
});
