/**
 * The manual resolver: what the application sets reaches every listener on its scheme,
 * now and later; fail() turns into onError; requests to re-resolve are counted.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { parseServiceConfig } from "../config/service-config.js";
import { createManualResolver } from "./manual.js";
import { getResolverFactory, parseTargetUri, type ResolverResult } from "./resolver.js";

function listen(scheme: string) {
  const results: ResolverResult[] = [];
  const errors: Error[] = [];
  const uri = parseTargetUri(`${scheme}:///svc`);
  const resolver = getResolverFactory(scheme)!.create(uri, { onResult: (r) => results.push(r), onError: (e) => errors.push(e) }, { defaultPort: 443 });
  return { resolver, results, errors };
}

test("each manual resolver registers its own scheme", () => {
  const a = createManualResolver();
  const b = createManualResolver();
  assert.notEqual(a.scheme, b.scheme);
  assert.ok(getResolverFactory(a.scheme) !== undefined && getResolverFactory(b.scheme) !== undefined);
  assert.equal(getResolverFactory(a.scheme)!.defaultAuthority(parseTargetUri(`${a.scheme}:///svc`)), "svc");
});

test("waits for the first update when created without addresses", async () => {
  const manual = createManualResolver();
  const { resolver, results } = listen(manual.scheme);
  await sleep(20);
  assert.equal(results.length, 0);
  manual.update([{ host: "10.0.0.1", port: 1 }]);
  assert.deepEqual(results.map((r) => r.addresses), [[{ host: "10.0.0.1", port: 1 }]]);
  resolver.close();
});

test("delivers every update, with its service config, to every listener", async () => {
  const manual = createManualResolver([{ host: "10.0.0.1", port: 1 }]);
  const one = listen(manual.scheme);
  const two = listen(manual.scheme);
  await sleep(0);
  const config = parseServiceConfig({ loadBalancingPolicy: "round_robin" });
  manual.update([{ host: "10.0.0.2", port: 2 }], config);
  for (const { results, resolver } of [one, two]) {
    assert.deepEqual(results.map((r) => r.addresses), [[{ host: "10.0.0.1", port: 1 }], [{ host: "10.0.0.2", port: 2 }]]);
    assert.equal(results[1]!.serviceConfig, config);
    resolver.close();
  }
});

test("fail() reaches listeners as onError, until the next update", async () => {
  const manual = createManualResolver([{ host: "10.0.0.1", port: 1 }]);
  const { resolver, results, errors } = listen(manual.scheme);
  await sleep(0);
  manual.fail(new Error("registry unreachable"));
  assert.deepEqual(errors.map((e) => e.message), ["registry unreachable"]);
  const late = listen(manual.scheme);
  await sleep(0);
  assert.deepEqual(late.errors.map((e) => e.message), ["registry unreachable"], "a new listener gets the current state");
  manual.update([{ host: "10.0.0.3", port: 3 }]);
  assert.equal(results.length, 2);
  resolver.close();
  late.resolver.close();
});

test("counts resolveNow requests and stops delivering after close", async () => {
  const manual = createManualResolver([{ host: "10.0.0.1", port: 1 }]);
  const { resolver, results } = listen(manual.scheme);
  await sleep(0);
  resolver.resolveNow();
  resolver.resolveNow();
  assert.equal(manual.resolveNowCount, 2);
  resolver.close();
  manual.update([{ host: "10.0.0.9", port: 9 }]);
  assert.equal(results.length, 1);
});
