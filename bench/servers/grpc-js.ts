/**
 * The bench service on @grpc/grpc-js's Server: the baseline every ratio in the
 * results is taken against. Handlers written as its documentation shows them.
 */
import * as grpc from "@grpc/grpc-js";
import { loadGrpcJsBench, type PayloadObject, type StreamRequestObject, type SummaryObject } from "../lib/grpc-js-bench.js";
import { counters, runBenchServer } from "./harness.js";

/** Resolves when `call` can take more writes, or is over (cancelled, failed). */
function writable(call: grpc.ServerWritableStream<StreamRequestObject, PayloadObject>): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      call.off("cancelled", done);
      call.off("error", done);
      resolve();
    };
    call.on("drain", done);
    call.on("cancelled", done);
    call.on("error", done);
  });
}

const benchService: grpc.UntypedServiceImplementation = {
  unary(call: grpc.ServerUnaryCall<PayloadObject, PayloadObject>, callback: grpc.sendUnaryData<PayloadObject>) {
    counters.okCalls++;
    callback(null, { body: call.request.body });
  },
  serverStream(call: grpc.ServerWritableStream<StreamRequestObject, PayloadObject>) {
    void (async () => {
      const body = Buffer.alloc(call.request.size);
      for (let i = 0; i < call.request.count; i++) {
        if (call.cancelled) return;
        counters.messages++;
        if (!call.write({ body })) await writable(call);
      }
      counters.okCalls++;
      call.end();
    })();
  },
  clientStream(call: grpc.ServerReadableStream<PayloadObject, SummaryObject>, callback: grpc.sendUnaryData<SummaryObject>) {
    let count = 0;
    let bytes = 0;
    call.on("data", (request: PayloadObject) => {
      count++;
      bytes += request.body.length;
    });
    call.on("end", () => {
      counters.messages += count;
      counters.okCalls++;
      callback(null, { count, bytes });
    });
  },
  bidi(call: grpc.ServerDuplexStream<PayloadObject, PayloadObject>) {
    call.on("data", (request: PayloadObject) => {
      counters.messages++;
      call.write({ body: request.body });
    });
    call.on("end", () => {
      counters.okCalls++;
      call.end();
    });
  },
};

await runBenchServer(async () => {
  const { service } = loadGrpcJsBench();
  const server = new grpc.Server();
  server.addService(service, benchService);
  return new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) => (error === null ? resolve(port) : reject(error)));
  });
});
