import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Codec, CodecRegistry, identity, parseAcceptEncoding } from "./compression.js";

/** A stand-in codec: the registry only looks at names. */
function namedCodec(name: string): Codec {
  return {
    name,
    compress: async (data) => data,
    decompress: async (data) => data,
  };
}

describe("CodecRegistry", () => {
  test("with no codecs advertises only identity", () => {
    const registry = new CodecRegistry();
    assert.equal(registry.acceptEncoding, "identity");
    assert.deepEqual(registry.names(), []);
    assert.equal(registry.get("gzip"), undefined);
  });

  test("lists codecs in the order given, identity last", () => {
    const gzip = namedCodec("gzip");
    const deflate = namedCodec("deflate");
    const registry = new CodecRegistry([gzip, deflate]);
    assert.deepEqual(registry.names(), ["gzip", "deflate"]);
    assert.equal(registry.acceptEncoding, "gzip,deflate,identity");
    assert.equal(registry.get("gzip"), gzip);
    assert.equal(registry.get("deflate"), deflate);
  });

  test("add() appends a codec, updates acceptEncoding and returns the registry", () => {
    const registry = new CodecRegistry([namedCodec("gzip")]);
    const snappy = namedCodec("snappy");
    assert.equal(registry.add(snappy), registry);
    assert.equal(registry.get("snappy"), snappy);
    assert.equal(registry.acceptEncoding, "gzip,snappy,identity");
  });

  test("adding a codec under an existing name replaces it in place", () => {
    const first = namedCodec("gzip");
    const second = namedCodec("gzip");
    const registry = new CodecRegistry([first, namedCodec("deflate")]).add(second);
    assert.equal(registry.get("gzip"), second);
    assert.deepEqual(registry.names(), ["gzip", "deflate"]);
    assert.equal(registry.acceptEncoding, "gzip,deflate,identity");
  });

  test("names are matched exactly", () => {
    const registry = new CodecRegistry([namedCodec("gzip")]);
    assert.equal(registry.get("GZIP"), undefined);
    assert.equal(registry.get(" gzip"), undefined);
    assert.equal(registry.get(identity), undefined, "identity is implicit, not a codec");
  });

  test("names() returns a copy", () => {
    const registry = new CodecRegistry([namedCodec("gzip")]);
    registry.names().push("x");
    assert.deepEqual(registry.names(), ["gzip"]);
  });
});

describe("parseAcceptEncoding", () => {
  const cases: [value: string | undefined, want: string[]][] = [
    [undefined, []],
    ["", []],
    ["gzip", ["gzip"]],
    ["gzip,deflate,identity", ["gzip", "deflate", "identity"]],
    ["gzip, deflate ,  identity", ["gzip", "deflate", "identity"]],
    ["gzip,,deflate,", ["gzip", "deflate"]],
    [" , ", []],
    ["x-custom", ["x-custom"]],
  ];
  for (const [value, want] of cases) {
    test(`splits ${JSON.stringify(value)} into ${JSON.stringify(want)}`, () => {
      assert.deepEqual(parseAcceptEncoding(value), want);
    });
  }

  test("reads back what a registry advertises", () => {
    const registry = new CodecRegistry([namedCodec("gzip"), namedCodec("deflate")]);
    assert.deepEqual(parseAcceptEncoding(registry.acceptEncoding), [...registry.names(), identity]);
  });
});
