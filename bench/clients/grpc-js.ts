/**
 * Client process: @grpc/grpc-js's client (the baseline) under the shared driver,
 * used as its documentation shows: callbacks for unary and client streaming,
 * Node streams for the rest.
 */
import { once } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import { createGrpcJsBenchClient, loadGrpcJsBench, type PayloadObject } from "../lib/grpc-js-bench.js";
import { clientMain, type ClientAdapter, type PingPongStream } from "./driver.js";

/** Resolves on an OK status, rejects on any other. */
function statusOf(call: grpc.ClientDuplexStream<PayloadObject, PayloadObject>): Promise<void> {
  return new Promise((resolve, reject) => {
    call.on("error", reject);
    call.on("status", (status: grpc.StatusObject) => (status.code === 0 ? resolve() : reject(new Error(status.details))));
  });
}

await clientMain((port) => {
  const client = createGrpcJsBenchClient(loadGrpcJsBench(), `127.0.0.1:${port}`);
  const adapter: ClientAdapter = {
    unary(body) {
      return new Promise((resolve, reject) => {
        client.unary({ body: Buffer.from(body.buffer, body.byteOffset, body.length) }, (error, response) =>
          error === null && response !== undefined ? resolve(response.body.length) : reject(error ?? new Error("no response")),
        );
      });
    },
    async serverStream(count, size) {
      let received = 0;
      for await (const message of client.serverStream({ count, size }) as AsyncIterable<PayloadObject>) {
        if (message.body.length === size) received++;
      }
      return received;
    },
    async clientStream(count, body) {
      let call: grpc.ClientWritableStream<PayloadObject> | undefined;
      const response = new Promise<number>((resolve, reject) => {
        call = client.clientStream((error, summary) =>
          error === null && summary !== undefined ? resolve(summary.count) : reject(error ?? new Error("no response")),
        );
      });
      const message = { body: Buffer.from(body.buffer, body.byteOffset, body.length) };
      for (let i = 0; i < count; i++) {
        if (!call!.write(message)) await Promise.race([once(call!, "drain"), response]);
      }
      call!.end();
      return response;
    },
    openPingPong(): PingPongStream {
      const call = client.bidi();
      let pending: { resolve: (length: number) => void; reject: (error: Error) => void } | undefined;
      let failed: Error | undefined;
      call.on("data", (message: PayloadObject) => {
        const waiter = pending;
        pending = undefined;
        waiter?.resolve(message.body.length);
      });
      const status = statusOf(call);
      status.then(
        () => pending?.reject(new Error("the stream ended before the echo")),
        (error: Error) => {
          failed = error;
          pending?.reject(error);
        },
      );
      return {
        roundTrip(body) {
          if (failed !== undefined) return Promise.reject(failed);
          return new Promise<number>((resolve, reject) => {
            pending = { resolve, reject };
            call.write({ body: Buffer.from(body.buffer, body.byteOffset, body.length) });
          });
        },
        async end() {
          call.end();
          await status;
        },
      };
    },
    close() {
      client.close();
    },
  };
  return adapter;
});
