/**
 * Before a server is loaded, a real gRPC client (@grpc/grpc-js, independent of every
 * server here) checks that it answers each method correctly: h2load only sees HTTP
 * statuses, so a server that answered 200 with an error would otherwise look fast.
 */
import * as grpc from "@grpc/grpc-js";
import { createGrpcJsBenchClient, loadGrpcJsBench, type GrpcJsBench, type GrpcJsBenchClient, type PayloadObject } from "./grpc-js-bench.js";

let bench: GrpcJsBench | undefined;

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(`correctness check failed: ${what}`);
}

/** Calls each of the four methods once and checks the answers; throws on any mismatch, or after 10 s. */
export async function checkGrpcServer(port: number): Promise<void> {
  bench ??= loadGrpcJsBench();
  const client = createGrpcJsBenchClient(bench, `127.0.0.1:${port}`);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("correctness check: no answer within 10 s")), 10_000);
  });
  try {
    await Promise.race([checkMethods(client), timeout]);
  } finally {
    clearTimeout(timer);
    client.close(); // cancels whatever a timed-out check left running
  }
}

async function checkMethods(client: GrpcJsBenchClient): Promise<void> {
  const body = Buffer.from("ping!");
  const echoed = await new Promise<PayloadObject>((resolve, reject) =>
    client.unary({ body }, (error, response) => (error === null && response !== undefined ? resolve(response) : reject(error ?? new Error("no response")))),
  );
  expect(echoed.body.equals(body), `Unary echoed ${JSON.stringify(echoed.body.toString())}`);

  const sizes: number[] = [];
  for await (const message of client.serverStream({ count: 3, size: 1024 }) as AsyncIterable<PayloadObject>) sizes.push(message.body.length);
  expect(sizes.join() === "1024,1024,1024", `ServerStream sent sizes [${sizes.join()}], want 3 x 1024`);

  const summary = await new Promise<{ count: number; bytes: number }>((resolve, reject) => {
    const call = client.clientStream((error, response) => (error === null && response !== undefined ? resolve(response) : reject(error ?? new Error("no response"))));
    for (let i = 0; i < 3; i++) call.write({ body: Buffer.alloc(100) });
    call.end();
  });
  expect(summary.count === 3 && summary.bytes === 300, `ClientStream summary ${JSON.stringify(summary)}, want 3 messages, 300 bytes`);

  const call = client.bidi();
  const replies: string[] = [];
  const ended = new Promise<void>((resolve, reject) => {
    call.on("data", (message: PayloadObject) => replies.push(message.body.toString()));
    call.on("error", reject);
    call.on("status", (status: grpc.StatusObject) => (status.code === 0 ? resolve() : reject(new Error(status.details))));
  });
  call.write({ body: Buffer.from("a") });
  call.write({ body: Buffer.from("b") });
  call.end();
  await ended;
  expect(replies.join() === "a,b", `Bidi echoed [${replies.join()}], want [a,b]`);
}

/** POSTs one echo to the REST server and checks the answer. */
export async function checkRestServer(port: number): Promise<void> {
  const body = Buffer.from("ping!").toString("base64");
  const response = await fetch(`http://127.0.0.1:${port}/echo`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ body }),
    signal: AbortSignal.timeout(5000),
  });
  const json = (await response.json()) as { body?: unknown };
  expect(response.status === 200 && json.body === body, `REST /echo answered ${response.status} ${JSON.stringify(json)}`);
}
