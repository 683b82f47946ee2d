import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AsyncQueue } from "./async-queue.js";

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Resolves once pending promise callbacks have run, to tell "pending" from "settled". */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function track<T>(promise: Promise<T>): { state: () => "pending" | "fulfilled" | "rejected"; promise: Promise<T> } {
  let state: "pending" | "fulfilled" | "rejected" = "pending";
  promise.then(() => (state = "fulfilled"), () => (state = "rejected"));
  return { state: () => state, promise };
}

describe("AsyncQueue delivery", () => {
  test("delivers pushed items in order, then ends", async () => {
    const queue = new AsyncQueue<number>();
    for (let i = 0; i < 5; i++) queue.push(i);
    queue.end();
    assert.deepEqual(await collect(queue), [0, 1, 2, 3, 4]);
  });

  test("an empty queue that ends yields nothing", async () => {
    const queue = new AsyncQueue<number>();
    queue.end();
    assert.deepEqual(await collect(queue), []);
  });

  test("end() lets the consumer read every buffered item first, and stays done", async () => {
    const queue = new AsyncQueue<string>();
    queue.push("a");
    queue.push("b");
    queue.end();
    assert.deepEqual(await queue.next(), { value: "a", done: false });
    assert.deepEqual(await queue.next(), { value: "b", done: false });
    assert.deepEqual(await queue.next(), { value: undefined, done: true });
    assert.deepEqual(await queue.next(), { value: undefined, done: true });
  });

  test("ignores pushes after end()", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.end();
    queue.push(2);
    assert.deepEqual(await collect(queue), [1]);
  });

  test("keeps order across many interleaved pushes and reads", async () => {
    const queue = new AsyncQueue<number>(4);
    const got: number[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 3; i++) queue.push(round * 3 + i);
      got.push((await queue.next()).value as number);
    }
    queue.end();
    got.push(...(await collect(queue)));
    assert.deepEqual(got, Array.from({ length: 30 }, (_, i) => i));
  });
});

describe("AsyncQueue failure", () => {
  test("fail() rejects the next read with the error, dropping buffered items", async () => {
    const queue = new AsyncQueue<number>();
    const error = new Error("stream reset");
    queue.push(1);
    queue.push(2);
    queue.fail(error);
    await assert.rejects(queue.next(), (err) => err === error);
  });

  test("fail() rejects every later read and a for-await loop", async () => {
    const queue = new AsyncQueue<number>();
    const error = new Error("boom");
    queue.fail(error);
    await assert.rejects(queue.next(), (err) => err === error);
    await assert.rejects(collect(queue), (err) => err === error);
  });

  test("after fail(), push, end and a second fail change nothing", async () => {
    const queue = new AsyncQueue<number>();
    const first = new Error("first");
    queue.fail(first);
    queue.push(1);
    queue.end();
    queue.fail(new Error("second"));
    await assert.rejects(queue.next(), (err) => err === first);
  });

  test("fail() after end() is ignored: the consumer still ends normally", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.end();
    queue.fail(new Error("late"));
    assert.deepEqual(await collect(queue), [1]);
  });
});

describe("AsyncQueue waiting consumer", () => {
  test("a read waiting on an empty queue is woken by push()", async () => {
    const queue = new AsyncQueue<string>();
    const read = track(queue.next());
    await settle();
    assert.equal(read.state(), "pending");
    queue.push("x");
    assert.deepEqual(await read.promise, { value: "x", done: false });
    // The woken item was handed over, not also buffered.
    const again = track(queue.next());
    await settle();
    assert.equal(again.state(), "pending");
    queue.end();
    assert.deepEqual(await again.promise, { value: undefined, done: true });
  });

  test("a read waiting on an empty queue is woken by end()", async () => {
    const queue = new AsyncQueue<string>();
    const read = queue.next();
    await settle();
    queue.end();
    assert.deepEqual(await read, { value: undefined, done: true });
  });

  test("a read waiting on an empty queue is woken by fail()", async () => {
    const queue = new AsyncQueue<string>();
    const read = queue.next();
    await settle();
    const error = new Error("cancelled");
    queue.fail(error);
    await assert.rejects(read, (err) => err === error);
  });

  test("a for-await loop consumes items pushed while it waits", async () => {
    const queue = new AsyncQueue<number>();
    const consumed = collect(queue);
    for (let i = 0; i < 3; i++) {
      await settle();
      queue.push(i);
    }
    await settle();
    queue.end();
    assert.deepEqual(await consumed, [0, 1, 2]);
  });
});

describe("AsyncQueue back-pressure", () => {
  test("asks the producer to pause at the high-water mark and resume once half drained", async () => {
    const calls: boolean[] = [];
    const queue = new AsyncQueue<number>(4, (pause) => calls.push(pause));
    queue.push(1);
    queue.push(2);
    queue.push(3);
    assert.deepEqual(calls, [], "below the mark");
    queue.push(4);
    assert.deepEqual(calls, [true], "at the mark");
    queue.push(5);
    queue.push(6);
    assert.deepEqual(calls, [true], "pause is asked once");
    await queue.next(); // 5 left
    await queue.next(); // 4 left
    await queue.next(); // 3 left
    await queue.next(); // 2 left: not yet below half of 4
    assert.deepEqual(calls, [true]);
    await queue.next(); // 1 left
    assert.deepEqual(calls, [true, false], "resumed below half the mark");
    await queue.next(); // 0 left
    assert.deepEqual(calls, [true, false]);
  });

  test("pauses again when the buffer refills after a resume", async () => {
    const calls: boolean[] = [];
    const queue = new AsyncQueue<number>(2, (pause) => calls.push(pause));
    queue.push(1);
    queue.push(2);
    await queue.next();
    await queue.next();
    queue.push(3);
    queue.push(4);
    assert.deepEqual(calls, [true, false, true]);
  });

  test("weighs items as push says: one heavy item pauses, light ones do not", async () => {
    const calls: boolean[] = [];
    const queue = new AsyncQueue<string>(1000, (pause) => calls.push(pause));
    for (let i = 0; i < 9; i++) queue.push("light", 100);
    assert.deepEqual(calls, [], "900 of 1000");
    queue.push("heavy", 600);
    assert.deepEqual(calls, [true], "1500 of 1000");
    for (let i = 0; i < 9; i++) await queue.next();
    assert.deepEqual(calls, [true], "the heavy item alone is still above half the mark");
    await queue.next();
    assert.deepEqual(calls, [true, false], "empty");
    queue.push("heavy again", 1000);
    assert.deepEqual(calls, [true, false, true], "the weights of items read are gone from the count");
  });

  test("items handed straight to a waiting reader never count toward the mark", async () => {
    const calls: boolean[] = [];
    const queue = new AsyncQueue<number>(1, (pause) => calls.push(pause));
    for (let i = 0; i < 5; i++) {
      const read = queue.next();
      queue.push(i);
      assert.deepEqual(await read, { value: i, done: false });
    }
    assert.deepEqual(calls, []);
  });

  test("an Infinity mark never pauses", () => {
    const calls: boolean[] = [];
    const queue = new AsyncQueue<number>(Infinity, (pause) => calls.push(pause));
    for (let i = 0; i < 10_000; i++) queue.push(i);
    assert.deepEqual(calls, []);
  });
});

describe("AsyncQueue return()", () => {
  test("return() calls onReturn once and ends iteration, dropping buffered items", async () => {
    let returns = 0;
    const queue = new AsyncQueue<number>(16, undefined, () => returns++);
    queue.push(1);
    queue.push(2);
    assert.deepEqual(await queue.return(), { value: undefined, done: true });
    assert.deepEqual(await queue.return(), { value: undefined, done: true });
    assert.equal(returns, 1);
    assert.deepEqual(await queue.next(), { value: undefined, done: true });
    queue.push(3);
    assert.deepEqual(await queue.next(), { value: undefined, done: true });
  });

  test("breaking out of a for-await loop calls onReturn", async () => {
    let returns = 0;
    const queue = new AsyncQueue<number>(16, undefined, () => returns++);
    queue.push(1);
    queue.push(2);
    queue.push(3);
    const seen: number[] = [];
    for await (const item of queue) {
      seen.push(item);
      if (item === 2) break;
    }
    assert.deepEqual(seen, [1, 2]);
    assert.equal(returns, 1);
    assert.deepEqual(await queue.next(), { value: undefined, done: true });
  });

  test("return() after end() ends iteration even with items still buffered", async () => {
    const queue = new AsyncQueue<number>();
    queue.push(1);
    queue.push(2);
    queue.end();
    assert.deepEqual(await queue.next(), { value: 1, done: false });
    await queue.return();
    assert.deepEqual(await queue.next(), { value: undefined, done: true });
  });

  test("return() after the consumer read everything does not call onReturn", async () => {
    let returns = 0;
    const queue = new AsyncQueue<number>(16, undefined, () => returns++);
    queue.push(1);
    queue.end();
    assert.deepEqual(await collect(queue), [1]);
    await queue.return();
    assert.equal(returns, 0);
  });

  test("the queue is its own async iterator", () => {
    const queue = new AsyncQueue<number>();
    assert.equal(queue[Symbol.asyncIterator](), queue);
  });
});
