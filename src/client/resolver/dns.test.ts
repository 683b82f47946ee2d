/**
 * The dns resolver on the system's own resolver (localhost, /etc/hosts): every record
 * of the name, one lookup per request at most once per minimum interval, requests in
 * between folded into one later lookup, and nothing without a request.
 */
import assert from "node:assert/strict";
import { lookup } from "node:dns/promises";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { dnsResolver, defaultMinResolutionIntervalMs } from "./dns.js";
import { parseTargetUri, type ResolverResult } from "./index.js";

function start(target: string, minResolutionIntervalMs?: number) {
  const results: { at: number; result: ResolverResult }[] = [];
  const errors: Error[] = [];
  const resolver = dnsResolver.create(parseTargetUri(target), {
    onResult: (result) => results.push({ at: performance.now(), result }),
    onError: (error) => errors.push(error),
  }, { defaultPort: 443, minResolutionIntervalMs });
  return { resolver, results, errors, lookups: () => results.length + errors.length };
}

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(5);
}

test("the default minimum interval between resolutions is 30 s", () => {
  assert.equal(defaultMinResolutionIntervalMs, 30_000);
});

test("returns every address the system knows for the name, in its order", async () => {
  const expected = (await lookup("localhost", { all: true, verbatim: true })).map((r) => ({ host: r.address, port: 8080 }));
  const { resolver, results } = start("dns:///localhost:8080");
  await until(() => results.length > 0);
  resolver.close();
  assert.deepEqual(results[0]?.result.addresses, expected);
});

test("resolves once by itself and then never again without a request (no polling)", async () => {
  const { resolver, lookups } = start("dns:///localhost:1", 20);
  await until(() => lookups() > 0);
  await sleep(300);
  resolver.close();
  assert.equal(lookups(), 1);
});

test("answers each request after the minimum interval has passed", async () => {
  const { resolver, results } = start("dns:///localhost:1", 50);
  await until(() => results.length === 1);
  await sleep(80);
  resolver.resolveNow();
  await until(() => results.length === 2);
  await sleep(80);
  resolver.resolveNow();
  await until(() => results.length === 3);
  resolver.close();
  assert.equal(results.length, 3);
});

test("folds requests within the minimum interval into one lookup when the interval ends", async () => {
  const { resolver, results } = start("dns:///localhost:1", 300);
  await until(() => results.length === 1);
  for (let i = 0; i < 10; i++) resolver.resolveNow();
  await sleep(100);
  assert.equal(results.length, 1, "rate-limited: nothing before the interval ends");
  await until(() => results.length === 2);
  await sleep(400);
  resolver.close();
  assert.equal(results.length, 2, "ten requests, one lookup");
  const gap = results[1]!.at - results[0]!.at;
  assert.ok(gap >= 280, `the second lookup came ${gap.toFixed(0)} ms after the first`);
});

test("close() cancels a lookup waiting for its interval", async () => {
  const { resolver, results } = start("dns:///localhost:1", 200);
  await until(() => results.length === 1);
  resolver.resolveNow();
  resolver.close();
  await sleep(350);
  assert.equal(results.length, 1);
});

test("takes an IP address as it is", async () => {
  const { resolver, results } = start("dns:///[::1]:7");
  await until(() => results.length > 0);
  resolver.close();
  assert.deepEqual(results[0]?.result.addresses, [{ host: "::1", port: 7 }]);
});

test("reports a name that does not exist through onError", async () => {
  const { resolver, results, errors } = start("dns:///no-such-host.invalid:1");
  await until(() => errors.length > 0, 10_000);
  resolver.close();
  assert.deepEqual(results, []);
  assert.match(errors[0]!.message, /cannot resolve no-such-host\.invalid/);
});

test("rejects a target without a host when created", () => {
  assert.throws(() => dnsResolver.create(parseTargetUri("dns:///"), { onResult() {}, onError() {} }, { defaultPort: 443 }), /names no host/);
});
