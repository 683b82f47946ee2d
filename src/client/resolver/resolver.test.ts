/**
 * The contract every resolver keeps, run against each built-in one (and the manual
 * resolver): the first answer arrives after create() returns, never inside it; close()
 * silences it; resolveNow() after close is harmless. Then the registry, target URI
 * parsing and address keys.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { lookup } from "node:dns/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { addressKey, createManualResolver, getResolverFactory, parseTargetUri, registerResolver, type Address, type ResolverResult } from "./index.js";

interface Case {
  readonly target: string;
  readonly addresses: readonly Address[];
}

const manual = createManualResolver([{ host: "10.0.0.1", port: 1 }, { path: "/tmp/m.sock" }]);
const cases: Case[] = [
  { target: "dns:///127.0.0.1:50051", addresses: [{ host: "127.0.0.1", port: 50051 }] },
  // Every address the system has for localhost (127.0.0.1, and ::1 on some machines).
  { target: "localhost:50052", addresses: (await lookup("localhost", { all: true, verbatim: true })).map((r) => ({ host: r.address, port: 50052 })) },
  { target: "ipv4:127.0.0.1:1,10.1.2.3:2", addresses: [{ host: "127.0.0.1", port: 1 }, { host: "10.1.2.3", port: 2 }] },
  { target: "ipv6:[::1]:1,[fe80::2]:2", addresses: [{ host: "::1", port: 1 }, { host: "fe80::2", port: 2 }] },
  { target: "unix:/run/app.sock", addresses: [{ path: "/run/app.sock" }] },
  { target: "unix:///run/app.sock", addresses: [{ path: "/run/app.sock" }] },
  { target: "unix:relative.sock", addresses: [{ path: "relative.sock" }] },
  { target: "unix-abstract:grpc-ts", addresses: [{ path: "\0grpc-ts" }] },
  { target: `${manual.scheme}:///anything`, addresses: [{ host: "10.0.0.1", port: 1 }, { path: "/tmp/m.sock" }] },
];

/** Starts a resolver for `target`, recording what reaches its listener. */
function resolve(target: string) {
  const uri = parseTargetUri(target);
  const factory = getResolverFactory(uri.scheme);
  assert.ok(factory !== undefined, `no resolver for ${uri.scheme}`);
  const results: ResolverResult[] = [];
  const errors: Error[] = [];
  const resolver = factory.create(uri, { onResult: (r) => results.push(r), onError: (e) => errors.push(e) }, { defaultPort: 443 });
  return { resolver, results, errors };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await sleep(10);
}

for (const { target, addresses } of cases) {
  describe(`resolver for ${JSON.stringify(target)}`, () => {
    test("answers after create() returns, with the target's addresses", async () => {
      const { resolver, results, errors } = resolve(target);
      assert.deepEqual([results.length, errors.length], [0, 0], "no answer inside create()");
      await until(() => results.length + errors.length > 0);
      resolver.close();
      assert.deepEqual(errors, []);
      assert.deepEqual(results.map((r) => r.addresses), [addresses]);
    });

    test("says nothing once closed, even when asked to resolve again", async () => {
      const { resolver, results, errors } = resolve(target);
      resolver.close();
      resolver.resolveNow();
      await sleep(50);
      assert.deepEqual([results.length, errors.length], [0, 0]);
    });
  });
}

describe("static resolvers reject malformed targets through onError", () => {
  const bad = [
    ["ipv4:::1", /not an ipv4 address/],
    ["ipv4:127.0.0.1:99999", /invalid port/],
    ["ipv6:127.0.0.1:1", /not an ipv6 address/],
    ["ipv6:[::1:1", /malformed/],
  ] as const;
  for (const [target, message] of bad) {
    test(`${JSON.stringify(target)} fails with ${message}`, async () => {
      const { resolver, results, errors } = resolve(target);
      await until(() => results.length + errors.length > 0);
      resolver.close();
      assert.deepEqual(results, []);
      assert.equal(errors.length, 1);
      assert.match(errors[0]!.message, message);
    });
  }
});

describe("parseTargetUri", () => {
  const cases: [string, { scheme: string; authority: string; endpoint: string }][] = [
    ["dns:///example.com:443", { scheme: "dns", authority: "", endpoint: "example.com:443" }],
    ["dns://8.8.8.8/example.com", { scheme: "dns", authority: "8.8.8.8", endpoint: "example.com" }],
    ["dns:example.com", { scheme: "dns", authority: "", endpoint: "example.com" }],
    ["DNS:///Example.com", { scheme: "dns", authority: "", endpoint: "Example.com" }],
    ["ipv4:1.2.3.4:5,6.7.8.9:10", { scheme: "ipv4", authority: "", endpoint: "1.2.3.4:5,6.7.8.9:10" }],
    ["unix:///abs/path", { scheme: "unix", authority: "", endpoint: "/abs/path" }],
    ["unix:rel/path", { scheme: "unix", authority: "", endpoint: "rel/path" }],
    // No registered scheme: the whole target is a dns name.
    ["localhost:50051", { scheme: "dns", authority: "", endpoint: "localhost:50051" }],
    ["example.com", { scheme: "dns", authority: "", endpoint: "example.com" }],
    ["unknown-scheme:///x", { scheme: "dns", authority: "", endpoint: "unknown-scheme:///x" }],
    ["[::1]:50051", { scheme: "dns", authority: "", endpoint: "[::1]:50051" }],
  ];
  for (const [target, want] of cases) {
    test(`${JSON.stringify(target)} → ${want.scheme} ${JSON.stringify(want.endpoint)}`, () => {
      assert.deepEqual(parseTargetUri(target), want);
    });
  }

  test("a scheme becomes known once a resolver is registered for it", () => {
    assert.equal(parseTargetUri("registry-test:///svc").scheme, "dns");
    registerResolver({ scheme: "registry-test", defaultAuthority: (t) => t.endpoint, create: () => ({ resolveNow() {}, close() {} }) });
    assert.deepEqual(parseTargetUri("registry-test:///svc"), { scheme: "registry-test", authority: "", endpoint: "svc" });
    assert.equal(getResolverFactory("registry-test")?.defaultAuthority(parseTargetUri("registry-test:///svc")), "svc");
  });
});

describe("addressKey", () => {
  const cases: [Address, string][] = [
    [{ host: "127.0.0.1", port: 80 }, "127.0.0.1:80"],
    [{ host: "::1", port: 80 }, "[::1]:80"],
    [{ path: "/tmp/s.sock" }, "unix:/tmp/s.sock"],
  ];
  for (const [address, want] of cases) test(`${JSON.stringify(address)} → ${want}`, () => assert.equal(addressKey(address), want));
});
