import assert from "node:assert/strict";
import { test } from "node:test";
import { HpackDynamicTable } from "./hpack-dynamic-table.js";

function entries(t: HpackDynamicTable): string[] {
  const out: string[] = [];
  for (let i = 1; i <= t.length; i++) out.push(`${t.name(i)}=${t.value(i)}`);
  return out;
}

test("the newest entry is index 1 and sizes count name + value + 32", () => {
  const t = new HpackDynamicTable(4096);
  t.add("a", "1");
  t.add("bb", "22");
  assert.deepEqual(entries(t), ["bb=22", "a=1"]);
  assert.equal(t.size, 34 + 36);
  assert.equal(t.name(3), undefined);
  assert.equal(t.name(0), undefined);
});

test("adding past the maximum evicts the oldest entries first", () => {
  const t = new HpackDynamicTable(100);
  t.add("a", "1"); // 34
  t.add("b", "2"); // 34 -> 68
  t.add("c", "3"); // 102 > 100: evicts a
  assert.deepEqual(entries(t), ["c=3", "b=2"]);
  assert.equal(t.size, 68);
});

test("an entry larger than the table empties it and is not added", () => {
  const t = new HpackDynamicTable(64);
  t.add("a", "1");
  t.add("name", "x".repeat(40));
  assert.deepEqual(entries(t), []);
  assert.equal(t.size, 0);
});

test("a smaller maximum size evicts until the table fits; zero empties it", () => {
  const t = new HpackDynamicTable(4096);
  for (let i = 0; i < 10; i++) t.add(`k${i}`, "v");
  t.setMaxSize(36 * 3);
  assert.deepEqual(entries(t), ["k9=v", "k8=v", "k7=v"]);
  t.setMaxSize(0);
  assert.equal(t.length, 0);
  t.add("a", "b");
  assert.equal(t.length, 0);
});

test("the ring grows past its initial capacity and keeps order", () => {
  const t = new HpackDynamicTable(1 << 20);
  for (let i = 0; i < 100; i++) t.add("n", String(i));
  assert.equal(t.length, 100);
  assert.equal(t.value(1), "99");
  assert.equal(t.value(100), "0");
});

test("lookups find the newest matching entry and forget evicted ones", () => {
  const t = new HpackDynamicTable(34 * 2, true);
  t.add("a", "1");
  t.add("a", "2");
  assert.equal(t.findPair("a", "1"), 2);
  assert.equal(t.findPair("a", "2"), 1);
  assert.equal(t.findName("a"), 1);
  t.add("b", "3"); // evicts a=1
  assert.equal(t.findPair("a", "1"), 0);
  assert.equal(t.findPair("a", "2"), 2);
  assert.equal(t.findName("a"), 2);
  t.add("c", "4"); // evicts a=2
  assert.equal(t.findName("a"), 0);
  assert.equal(t.findName("c"), 1);
});
