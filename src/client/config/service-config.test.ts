import assert from "node:assert/strict";
import { test } from "node:test";
import { Code } from "../../protocol/status.js";
import { ServiceConfigError, lookupMethodConfig, parseServiceConfig } from "./service-config.js";
import { parseDurationMs } from "./duration.js";

const retry = { maxAttempts: 4, initialBackoff: "0.1s", maxBackoff: "1s", backoffMultiplier: 2, retryableStatusCodes: ["UNAVAILABLE", 4] };

test("a full service config parses with typed method configs", () => {
  const config = parseServiceConfig(JSON.stringify({
    loadBalancingConfig: [{ round_robin: {} }, { pick_first: { shuffleAddressList: true } }],
    methodConfig: [
      { name: [{ service: "pkg.Svc", method: "Get" }], timeout: "1.5s", waitForReady: true, retryPolicy: retry },
      { name: [{ service: "pkg.Svc" }], maxRequestMessageBytes: 1024, hedgingPolicy: { maxAttempts: 9, hedgingDelay: "0.2s", nonFatalStatusCodes: ["unavailable"] } },
      { name: [{}], timeout: "10s" },
    ],
    retryThrottling: { maxTokens: 10, tokenRatio: 0.12345 },
    healthCheckConfig: { serviceName: "pkg.Svc" },
    someFutureField: true,
  }));
  assert.deepEqual(config.loadBalancingConfig.map((e) => e.name), ["round_robin", "pick_first"]);
  const get = lookupMethodConfig(config, "pkg.Svc", "Get")!;
  assert.equal(get.timeoutMs, 1500);
  assert.equal(get.waitForReady, true);
  assert.equal(get.retryPolicy!.maxAttempts, 4);
  assert.deepEqual([...get.retryPolicy!.retryableStatusCodes].sort((a, b) => a - b), [Code.DEADLINE_EXCEEDED, Code.UNAVAILABLE]);
  const other = lookupMethodConfig(config, "pkg.Svc", "List")!;
  assert.equal(other.maxRequestMessageBytes, 1024);
  assert.equal(other.hedgingPolicy!.maxAttempts, 5, "maxAttempts above 5 is clamped to 5");
  assert.equal(lookupMethodConfig(config, "other.Svc", "X")!.timeoutMs, 10_000);
  assert.equal(config.retryThrottling!.tokenRatio, 0.123);
  assert.equal(config.healthCheckServiceName, "pkg.Svc");
});

test("loadBalancingPolicy (the older field) is read when loadBalancingConfig is absent", () => {
  assert.deepEqual(parseServiceConfig({ loadBalancingPolicy: "ROUND_ROBIN" }).loadBalancingConfig, [{ name: "round_robin", config: {} }]);
});

test("no method config matches when there is no default", () => {
  const config = parseServiceConfig({ methodConfig: [{ name: [{ service: "a.B" }], timeout: "1s" }] });
  assert.equal(lookupMethodConfig(config, "c.D", "E"), undefined);
});

const invalid: [string, unknown, RegExp][] = [
  ["not JSON", "{", /not JSON/],
  ["a top level that is a list", [], /top level/],
  ["retryPolicy and hedgingPolicy together", { methodConfig: [{ name: [{}], retryPolicy: retry, hedgingPolicy: { maxAttempts: 2 } }] }, /not both/],
  ["maxAttempts of 1", { methodConfig: [{ name: [{}], retryPolicy: { ...retry, maxAttempts: 1 } }] }, /maxAttempts/],
  ["a zero initialBackoff", { methodConfig: [{ name: [{}], retryPolicy: { ...retry, initialBackoff: "0s" } }] }, /initialBackoff/],
  ["a malformed duration", { methodConfig: [{ name: [{}], timeout: "5" }] }, /timeout/],
  ["empty retryableStatusCodes", { methodConfig: [{ name: [{}], retryPolicy: { ...retry, retryableStatusCodes: [] } }] }, /retryableStatusCodes/],
  ["an unknown status code", { methodConfig: [{ name: [{}], retryPolicy: { ...retry, retryableStatusCodes: ["NOPE"] } }] }, /NOPE/],
  ["a negative backoffMultiplier", { methodConfig: [{ name: [{}], retryPolicy: { ...retry, backoffMultiplier: -1 } }] }, /backoffMultiplier/],
  ["a method without a service", { methodConfig: [{ name: [{ method: "Get" }] }] }, /without a service/],
  ["the same name twice", { methodConfig: [{ name: [{ service: "a.B" }] }, { name: [{ service: "a.B" }] }] }, /twice/],
  ["maxTokens above 1000", { retryThrottling: { maxTokens: 1001, tokenRatio: 1 } }, /maxTokens/],
  ["a zero tokenRatio", { retryThrottling: { maxTokens: 10, tokenRatio: 0 } }, /tokenRatio/],
  ["an lb entry with two names", { loadBalancingConfig: [{ round_robin: {}, pick_first: {} }] }, /exactly one/],
];

for (const [what, config, message] of invalid) {
  test(`rejects a service config with ${what}`, () => {
    assert.throws(() => parseServiceConfig(config as object), (err: unknown) => err instanceof ServiceConfigError && message.test(err.message));
  });
}

const durations = [["1s", 1000], ["1.5s", 1500], ["0.000001s", 0.001], ["0s", 0], ["-2s", -2000], ["1", undefined], ["1.5", undefined], ["s", undefined], [1, undefined]] as const;
for (const [value, want] of durations) {
  test(`Duration ${JSON.stringify(value)} parses to ${want}`, () => assert.equal(parseDurationMs(value), want));
}
