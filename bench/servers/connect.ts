/**
 * The bench service on @connectrpc/connect-node (gRPC protocol over node:http2,
 * h2c), with the same descriptor and handler shapes as the grpc-ts server.
 */
import { createServer } from "node:http2";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Bench } from "../gen/bench_pb.js";
import { counters, runBenchServer } from "./harness.js";

const benchService: ServiceImpl<typeof Bench> = {
  unary(request) {
    counters.okCalls++;
    return { body: request.body };
  },
  async *serverStream(request) {
    const body = new Uint8Array(request.size);
    for (let i = 0; i < request.count; i++) {
      counters.messages++;
      yield { body };
    }
    counters.okCalls++;
  },
  async clientStream(requests) {
    let count = 0;
    let bytes = 0;
    for await (const request of requests) {
      count++;
      bytes += request.body.length;
    }
    counters.messages += count;
    counters.okCalls++;
    return { count, bytes: BigInt(bytes) };
  },
  async *bidi(requests) {
    for await (const request of requests) {
      counters.messages++;
      yield { body: request.body };
    }
    counters.okCalls++;
  },
};

await runBenchServer(async () => {
  const handler = connectNodeAdapter({ routes: (router: ConnectRouter) => router.service(Bench, benchService) });
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return address.port;
});
