import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { startEcho } from "./helpers/server.js";

let env: Awaited<ReturnType<typeof startEcho>>;
before(async () => {
  env = await startEcho();
});
after(() => env.close());

test("a unary call returns the echoed message", async () => {
  const res = await env.client.unary({ message: "hello" });
  assert.equal(res.message, "hello");
});

test("a server stream delivers every message in order", async () => {
  const got: number[] = [];
  for await (const res of env.client.serverStream({ message: "x", count: 5 })) got.push(res.index);
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
});
