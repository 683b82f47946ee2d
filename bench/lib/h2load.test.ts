import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { parseH2loadSummary, readH2loadLog } from "./h2load.js";

const summary = (finished: string) => `starting benchmark...
Application protocol: h2c

finished in ${finished}, 10064.60 req/s, 471.90KB/s
requests: 20000 total, 20100 started, 19990 done, 19980 succeeded, 10 failed, 3 errored, 0 timeout
status codes: 19980 2xx, 0 3xx, 0 4xx, 10 5xx
`;

for (const [finished, seconds] of [["1.99s", 1.99], ["850.50ms", 0.8505], ["300us", 0.0003]] as const) {
  test(`reads "finished in ${finished}" as ${seconds} s and the request counts`, () => {
    const got = parseH2loadSummary(summary(finished));
    assert.equal(got.elapsedSeconds, seconds);
    assert.equal(got.requestsPerSecond, 10064.6);
    assert.equal(got.succeeded, 19980);
    assert.equal(got.failed, 10);
    assert.equal(got.errored, 3);
  });
}

test("rejects output without a summary, so a crashed h2load is never read as zero requests", () => {
  assert.throws(() => parseH2loadSummary("starting benchmark...\n"), /unexpected h2load output/);
});

const dir = mkdtempSync(join(tmpdir(), "h2load-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("takes latency percentiles from the third column of the log file", () => {
  const path = join(dir, "log.txt");
  // 1000 requests of 1..1000 µs, shuffled: p50 = 500, p99 = 990, p99.9 = 999.
  const lines = Array.from({ length: 1000 }, (_, i) => `17956563497930${i}\t200\t${((i * 7919) % 1000) + 1}`);
  writeFileSync(path, `${lines.join("\n")}\n`);
  assert.deepEqual(readH2loadLog(path), { count: 1000, p50Us: 500, p99Us: 990, p999Us: 999 });
});
