/**
 * An nginx of the machine's own (scripts/ensure-nginx.sh installs Debian's) run as a
 * child process for tests: a gRPC reverse proxy (grpc_pass) on 127.0.0.1 in front of
 * an upstream of backends, with every file it writes (config, logs, pid, temp) in a
 * temp directory removed on stop. Stopped by its PID, never by name.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface NginxBinary {
  readonly path: string;
  /** [major, minor, patch] from `nginx -v`. */
  readonly version: readonly [number, number, number];
}

const candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx", "/usr/bin/nginx"];

/** The nginx to use ($NGINX, else the usual install paths), or why there is none. */
export function findNginx(): NginxBinary | string {
  const path = process.env.NGINX ?? candidates.find((p) => existsSync(p));
  if (path === undefined || !existsSync(path)) return `nginx is not installed${path === undefined ? "" : ` at ${path}`} (scripts/ensure-nginx.sh installs it with apt-get)`;
  // `nginx -v` prints "nginx version: nginx/1.22.1" on stderr.
  const result = spawnSync(path, ["-v"], { encoding: "utf8" });
  if (result.error !== undefined) return `${path} -v failed: ${result.error.message}`;
  return parseVersion(path, `${result.stdout}${result.stderr}`);
}

function parseVersion(path: string, banner: string): NginxBinary | string {
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(banner);
  if (match === null) return `cannot read the version of ${path} from ${JSON.stringify(banner)}`;
  return { path, version: [Number(match[1]), Number(match[2]), Number(match[3])] };
}

function atLeast(version: readonly number[], wanted: readonly number[]): boolean {
  for (let i = 0; i < wanted.length; i++) {
    if (version[i]! !== wanted[i]!) return version[i]! > wanted[i]!;
  }
  return true;
}

/** A port that was free a moment ago (nginx binds it itself). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The config: one h2c listener, grpc_pass to round-robin over `backendPorts`. */
export function grpcProxyConfig(nginx: NginxBinary, dir: string, port: number, backendPorts: readonly number[]): string {
  // nginx 1.25.1 replaced `listen … http2` with the `http2 on` directive (the old form warns).
  const listen = atLeast(nginx.version, [1, 25, 1]) ? `listen 127.0.0.1:${port};\n    http2 on;` : `listen 127.0.0.1:${port} http2;`;
  // As root, workers would switch to an unprivileged user that cannot write into `dir`.
  const user = process.getuid?.() === 0 ? "user root;\n" : "";
  return `${user}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream grpc_backends {
${backendPorts.map((p) => `    server 127.0.0.1:${p};`).join("\n")}
    keepalive 8;
  }
  server {
    ${listen}
    location / {
      grpc_pass grpc://grpc_backends;
    }
  }
}
`;
}

export interface RunningNginx {
  /** The port of its h2c listener on 127.0.0.1. */
  readonly port: number;
  readonly pid: number;
  /** The error log so far, for failure messages. */
  errorLog(): Promise<string>;
  /** SIGTERM to its PID (SIGKILL if it lingers), then removes its directory. */
  stop(): Promise<void>;
}

/** Starts nginx proxying gRPC to `backendPorts`; resolves once it accepts connections. */
export async function startGrpcProxy(nginx: NginxBinary, backendPorts: readonly number[]): Promise<RunningNginx> {
  const dir = await mkdtemp(join(tmpdir(), "grpc-ts-nginx-"));
  const port = await freePort();
  const config = join(dir, "nginx.conf");
  await writeFile(config, grpcProxyConfig(nginx, dir, port, backendPorts));
  // -e (nginx >= 1.19.5) keeps even the first startup messages out of /var/log.
  const args = ["-p", `${dir}/`, "-c", config, ...(atLeast(nginx.version, [1, 19, 5]) ? ["-e", `${dir}/error.log`] : [])];
  const child = spawn(nginx.path, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const errorLog = async () => `${stderr}${await readFile(join(dir, "error.log"), "utf8").catch(() => "")}`;
  const stop = async () => {
    await stopChild(child, exited);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitForListener(port, child);
  } catch (err) {
    const log = await errorLog();
    await stop();
    throw new Error(`nginx did not start: ${(err as Error).message}\n${log}`);
  }
  return { port, pid: child.pid!, errorLog, stop };
}

async function waitForListener(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`it exited (${child.exitCode ?? child.signalCode})`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after 15 s`);
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM"); // nginx: fast shutdown, the master stops its worker first
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
