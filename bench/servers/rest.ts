/**
 * The same unary echo as REST + JSON over HTTP/1.1 (node:http, keep-alive): POST
 * /echo with {"body": "<base64>"}, as proto3 JSON writes bytes. The "REST vs gRPC"
 * comparison: it decodes and re-encodes the body as the gRPC servers do.
 */
import { createServer } from "node:http";
import { counters, runBenchServer } from "./harness.js";

await runBenchServer(async () => {
  const server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    if (req.method !== "POST" || req.url !== "/echo") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: Buffer;
      try {
        const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { body?: unknown };
        body = Buffer.from(typeof parsed.body === "string" ? parsed.body : "", "base64");
      } catch {
        res.writeHead(400).end();
        return;
      }
      const response = JSON.stringify({ body: body.toString("base64") });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(response) });
      res.end(response);
      counters.okCalls++;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return address.port;
});
