import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { setDeadlineTimer } from "./timer.js";

/**
 * Waits `ms` on a ref'd timer. Deadline timers are unref'd, so without one of these
 * pending the event loop could empty and end the test run before they fire.
 */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Resolves when the deadline timer fires; rejects if it has not within `limitMs`. */
function firedWithin(limitMs: number, arm: (fire: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`deadline timer did not fire within ${limitMs} ms`)), limitMs);
    arm(() => {
      clearTimeout(guard);
      resolve();
    });
  });
}

describe("setDeadlineTimer", () => {
  test("fires once, after waiting for the deadline", async () => {
    let calls = 0;
    const deadline = Date.now() + 100;
    let firedAt = 0;
    await firedWithin(5_000, (fire) => {
      setDeadlineTimer(deadline, () => {
        calls++;
        firedAt = Date.now();
        fire();
      });
    });
    // Timers run on the event loop's cached clock, which can lag Date.now() by a few
    // ms on a busy machine; the point is that it waited instead of firing at once.
    assert.ok(firedAt >= deadline - 20, `fired ${deadline - firedAt} ms early`);
    await sleep(60);
    assert.equal(calls, 1);
  });

  for (const [name, offsetMs] of [["now", 0], ["in the past", -10_000]] as const) {
    test(`fires promptly for a deadline ${name}`, async () => {
      let calls = 0;
      await firedWithin(5_000, (fire) => {
        setDeadlineTimer(Date.now() + offsetMs, () => {
          calls++;
          fire();
        });
      });
      assert.equal(calls, 1);
    });
  }

  test("clear() before the deadline prevents the call", async () => {
    let calls = 0;
    const timer = setDeadlineTimer(Date.now() + 20, () => calls++);
    timer.clear();
    await sleep(80);
    assert.equal(calls, 0);
  });

  test("clear() after the timer fired is harmless", async () => {
    let calls = 0;
    let timer: { clear(): void } | undefined;
    await firedWithin(5_000, (fire) => {
      timer = setDeadlineTimer(Date.now(), () => {
        calls++;
        fire();
      });
    });
    timer!.clear();
    timer!.clear();
    assert.equal(calls, 1);
  });

  // setTimeout fires at once for delays past 2^31-1 ms; these deadlines must wait.
  for (const [name, aheadMs] of [
    ["2^31-1 ms", 2 ** 31 - 1],
    ["2^31 ms", 2 ** 31],
    ["2^32 ms", 2 ** 32],
    ["one year", 365 * 24 * 3_600_000],
  ] as const) {
    test(`a deadline ${name} ahead does not fire early`, async () => {
      let calls = 0;
      const timer = setDeadlineTimer(Date.now() + aheadMs, () => calls++);
      try {
        await sleep(50);
        assert.equal(calls, 0);
      } finally {
        timer.clear();
      }
    });
  }

  test("a pending deadline does not keep the process alive", async () => {
    const { spawn } = await import("node:child_process");
    const script = `
      import { setDeadlineTimer } from ${JSON.stringify(new URL("./timer.ts", import.meta.url).href)};
      setDeadlineTimer(Date.now() + 60_000, () => { console.log("fired"); });
      setDeadlineTimer(Date.now() + 2 ** 31 + 5, () => { console.log("fired"); });
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const guard = setTimeout(() => child.kill(), 30_000);
    try {
      const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
      assert.equal(code, 0, output);
      assert.equal(output, "");
    } finally {
      clearTimeout(guard);
      if (child.exitCode === null && child.signalCode === null) child.kill();
    }
  });
});
