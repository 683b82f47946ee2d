import assert from "node:assert/strict";
import * as http from "node:http";
import { after, before, test } from "node:test";
import { Server, createChannel, createClient } from "../src/index.js";
import { Echo } from "./gen/echo_pb.js";
import { echoService } from "./helpers/server.js";

let server: Server;
let port: number;
const channels: { close(): void }[] = [];

before(async () => {
  server = new Server({
    transport: "h2",
    http1(request, response) {
      response.writeHead(200, { "content-type": "text/plain" });
      response.end(`HTTP/1.1 ${request.method} ${request.url}`);
    },
  });
  server.add(Echo, echoService);
  const address = await server.listen("127.0.0.1:0");
  assert.ok("port" in address);
  port = address.port;
});
after(async () => {
  for (const c of channels) c.close();
  server.forceShutdown();
  await server.shutdown({ graceMs: 0 });
});

function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: "GET", agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

test("an HTTP/1.1 request on the gRPC port reaches the server's http1 handler", async () => {
  const res = await get("/hello?x=1");
  assert.equal(res.status, 200);
  assert.equal(res.body, "HTTP/1.1 GET /hello?x=1");
});

test("HTTP/2 gRPC calls and HTTP/1.1 requests share the port at the same time", async () => {
  const channel = createChannel(`127.0.0.1:${port}`);
  channels.push(channel);
  const client = createClient(Echo, channel);
  const [grpc, plain] = await Promise.all([client.unary({ message: "h2" }), get("/again")]);
  assert.equal(grpc.message, "h2");
  assert.equal(plain.body, "HTTP/1.1 GET /again");
});
