/**
 * The bench service on a grpc-ts Server (the library under test), written as a user
 * would: typed handlers from the generated descriptor, async generators for streams.
 */
import { Server, type ServiceImpl } from "../../src/index.js";
import { Bench } from "../gen/bench_pb.js";
import { grpcTsTransport } from "../lib/grpc-ts-transport.js";
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
  const server = new Server({ transport: grpcTsTransport() });
  server.add(Bench, benchService);
  const address = await server.listen("127.0.0.1:0");
  if (!("port" in address)) throw new Error("expected a TCP address");
  return address.port;
});
