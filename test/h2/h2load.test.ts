/**
 * h2load (nghttp2's load generator) against the gRPC server on the h2 transport: an
 * independent HTTP/2 client with its own HPACK and flow control, many streams in
 * flight on each connection. Skipped where h2load is not installed (Debian package
 * nghttp2-client).
 */
import assert from "node:assert/strict";
import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { Server } from "../../src/index.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService } from "../helpers/server.js";

function hasH2load(): boolean {
  try {
    execFileSync("h2load", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

test("h2load's 4000 unary calls over 4 connections, 32 streams each, all succeed", { skip: hasH2load() ? false : "h2load is not installed" }, async () => {
  const server = new Server({ transport: "h2" });
  server.add(Echo, echoService);
  const dir = await mkdtemp(join(tmpdir(), "grpc-ts-h2load-"));
  try {
    const address = await server.listen("127.0.0.1:0");
    const port = (address as { port: number }).port;
    // One gRPC message: EchoRequest{message: "hello"}.
    const body = join(dir, "request.bin");
    await writeFile(body, Uint8Array.from([0, 0, 0, 0, 7, 0x0a, 5, ...Buffer.from("hello")]));
    const { stdout } = await promisify(execFile)("h2load", [
      "-n", "4000", "-c", "4", "-m", "32", "-d", body,
      "-H", "content-type: application/grpc", "-H", "te: trailers",
      `http://127.0.0.1:${port}/grpcts.test.Echo/Unary`,
    ], { timeout: 60_000 });
    assert.match(stdout, /requests: 4000 total, 4000 started, 4000 done, 4000 succeeded, 0 failed, 0 errored, 0 timeout/);
    assert.match(stdout, /status codes: 4000 2xx/);
  } finally {
    server.forceShutdown();
    await server.shutdown({ graceMs: 0 });
    await rm(dir, { recursive: true, force: true });
  }
});
