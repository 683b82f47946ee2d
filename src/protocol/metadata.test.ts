import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Headers, isReservedKey, Metadata, type MetadataValue, metadataFromHeaders, metadataToHeaders } from "./metadata.js";

const bin = (...values: number[]) => Uint8Array.from(values);

describe("Metadata keys", () => {
  const folded: [key: string, stored: string][] = [
    ["X-Custom", "x-custom"],
    ["UPPER", "upper"],
    ["a.b_c-d", "a.b_c-d"],
    ["0123456789", "0123456789"],
    ["x", "x"],
  ];
  for (const [key, stored] of folded) {
    test(`accepts ${JSON.stringify(key)} and stores it as ${JSON.stringify(stored)}`, () => {
      const md = new Metadata().set(key, "v");
      assert.deepEqual([...md.keys()], [stored]);
      assert.equal(md.get(stored), "v");
      assert.equal(md.get(key), "v", "lookups fold case too");
    });
  }

  const invalidKeys: [name: string, key: string][] = [
    ["empty", ""],
    ["a space", "x custom"],
    ["a colon", "x:y"],
    ["a pseudo-header", ":path"],
    ["a slash", "a/b"],
    ["a non-ASCII letter", "clé"],
    ["a tab", "x\ty"],
    ["an equals sign", "a=b"],
  ];
  for (const [name, key] of invalidKeys) {
    test(`rejects a key with ${name} (${JSON.stringify(key)}) with a TypeError`, () => {
      assert.throws(() => new Metadata().set(key, "v"), TypeError);
      assert.throws(() => new Metadata().append(key, "v"), TypeError);
    });
  }

  const reservedKeys = [
    "grpc-timeout", "grpc-encoding", "grpc-accept-encoding", "grpc-status", "grpc-message",
    "grpc-status-details-bin", "grpc-message-type", "content-type", "te", "connection",
    "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host",
    "Content-Type", "GRPC-STATUS",
    // The whole grpc- prefix is reserved for the library, not only the keys it writes.
    "grpc-previous-rpc-attempts", "grpc-custom", "grpc-trace-bin", "Grpc-Anything",
  ];
  for (const key of reservedKeys) {
    test(`rejects the reserved key ${JSON.stringify(key)} with a TypeError`, () => {
      const value: MetadataValue = key.toLowerCase().endsWith("-bin") ? bin(1) : "v";
      assert.throws(() => new Metadata().set(key, value), { name: "TypeError", message: /reserved/ });
      assert.throws(() => new Metadata().append(key, value), TypeError);
      assert.throws(() => new Metadata([[key, value]]), TypeError);
    });
  }

  test("accepts keys that only contain grpc without the prefix", () => {
    const md = new Metadata().set("x-grpc-test-echo-initial", "a").set("my-grpc-", "b").set("grpc", "c");
    assert.deepEqual([...md], [["x-grpc-test-echo-initial", "a"], ["my-grpc-", "b"], ["grpc", "c"]]);
  });
});

describe("Metadata values", () => {
  test("-bin keys take a Uint8Array and getBinary returns it", () => {
    const value = bin(0, 255, 10);
    const md = new Metadata().set("trace-bin", value);
    assert.deepEqual(md.getBinary("trace-bin"), value);
    assert.equal(md.getString("trace-bin"), undefined);
  });

  test("-bin keys accept an empty Uint8Array", () => {
    assert.deepEqual(new Metadata().set("x-bin", bin()).getBinary("x-bin"), bin());
  });

  test("rejects a string value for a -bin key", () => {
    assert.throws(() => new Metadata().set("trace-bin", "AAEC"), { name: "TypeError", message: /Uint8Array/ });
  });

  test("rejects a Uint8Array value for a text key", () => {
    assert.throws(() => new Metadata().set("trace", bin(1)), TypeError);
  });

  const goodValues: [name: string, value: string][] = [
    ["empty", ""],
    ["space (0x20)", " "],
    ["tilde (0x7E)", "~"],
    ["every printable ASCII character", Array.from({ length: 0x5f }, (_, i) => String.fromCharCode(0x20 + i)).join("")],
  ];
  for (const [name, value] of goodValues) {
    test(`accepts a text value of ${name}`, () => {
      const md = new Metadata().set("k", value);
      assert.equal(md.getString("k"), value);
      assert.equal(md.getBinary("k"), undefined);
    });
  }

  const badValues: [name: string, value: string][] = [
    ["0x1F", "\x1f"],
    ["DEL (0x7F)", "\x7f"],
    ["a tab", "a\tb"],
    ["CR LF", "a\r\nb"],
    ["NUL", "\0"],
    ["Latin-1 é", "é"],
    ["an emoji", "😈"],
  ];
  for (const [name, value] of badValues) {
    test(`rejects a text value containing ${name} with a TypeError`, () => {
      assert.throws(() => new Metadata().set("k", value), { name: "TypeError", message: /0x20-0x7E/ });
    });
  }

  test("keeps repeated values in insertion order and get returns the first", () => {
    const md = new Metadata().append("k", "1").append("k", "2").append("K", "3");
    assert.deepEqual(md.getAll("k"), ["1", "2", "3"]);
    assert.equal(md.get("k"), "1");
    assert.deepEqual([...md], [["k", "1"], ["k", "2"], ["k", "3"]]);
  });

  test("set replaces every value of a key", () => {
    const md = new Metadata().append("k", "1").append("k", "2").set("k", "3");
    assert.deepEqual(md.getAll("k"), ["3"]);
  });

  test("getAll returns a copy the caller may change", () => {
    const md = new Metadata().append("k", "1");
    md.getAll("k").push("2");
    assert.deepEqual(md.getAll("k"), ["1"]);
  });

  test("absent keys read as undefined and an empty list", () => {
    const md = new Metadata();
    assert.equal(md.get("nope"), undefined);
    assert.equal(md.getString("nope"), undefined);
    assert.equal(md.getBinary("nope-bin"), undefined);
    assert.deepEqual(md.getAll("nope"), []);
    assert.equal(md.has("nope"), false);
    assert.equal(md.size, 0);
  });

  test("delete removes every value of a key", () => {
    const md = new Metadata().append("a", "1").append("a", "2").append("b", "3");
    assert.equal(md.delete("A"), true);
    assert.equal(md.delete("a"), false);
    assert.deepEqual([...md], [["b", "3"]]);
  });

  test("the constructor takes entries or a record with arrays for repeated values", () => {
    const fromEntries = new Metadata([["a", "1"], ["A", "2"], ["b-bin", bin(7)]]);
    const fromRecord = new Metadata({ a: ["1", "2"], "b-bin": bin(7) });
    for (const md of [fromEntries, fromRecord]) {
      assert.deepEqual(md.getAll("a"), ["1", "2"]);
      assert.deepEqual(md.getBinary("b-bin"), bin(7));
      assert.equal(md.size, 2);
    }
  });

  test("toJSON shows -bin values as padded base64", () => {
    const md = new Metadata().append("a", "x").append("a", "y").set("b-bin", bin(0xff));
    assert.deepEqual(md.toJSON(), { a: ["x", "y"], "b-bin": ["/w=="] });
  });
});

describe("Metadata clone and merge", () => {
  test("clone copies every entry and is independent of the original", () => {
    const original = new Metadata().append("a", "1").append("a", "2").set("b-bin", bin(1));
    const copy = original.clone();
    assert.deepEqual([...copy], [...original]);
    copy.append("a", "3");
    copy.set("c", "new");
    original.append("a", "x");
    assert.deepEqual(original.getAll("a"), ["1", "2", "x"]);
    assert.deepEqual(copy.getAll("a"), ["1", "2", "3"]);
    assert.equal(original.has("c"), false);
  });

  test("merge appends the other side's values after existing ones and leaves the other unchanged", () => {
    const target = new Metadata().append("a", "1").set("b", "only-here");
    const other = new Metadata().append("a", "2").append("a", "3").set("c", "new");
    assert.equal(target.merge(other), target);
    assert.deepEqual([...target], [["a", "1"], ["a", "2"], ["a", "3"], ["b", "only-here"], ["c", "new"]]);
    target.append("c", "more");
    assert.deepEqual(other.getAll("c"), ["new"]);
    assert.deepEqual(other.getAll("a"), ["2", "3"]);
  });

  test("merging an empty Metadata changes nothing", () => {
    const md = new Metadata().set("a", "1");
    md.merge(new Metadata());
    assert.deepEqual([...md], [["a", "1"]]);
  });
});

describe("metadataFromHeaders", () => {
  test("drops pseudo-headers and reserved keys but keeps other grpc-* keys", () => {
    const md = metadataFromHeaders({
      ":status": "200", ":path": "/a.B/C", ":authority": "x", "content-type": "application/grpc",
      te: "trailers", "grpc-timeout": "1S", "grpc-encoding": "gzip", "grpc-accept-encoding": "gzip",
      "grpc-status": "0", "grpc-message": "ok", "grpc-status-details-bin": "AAAA", "grpc-message-type": "t",
      "user-agent": "ua", "grpc-previous-rpc-attempts": "1", "x-app": "v",
    });
    assert.deepEqual([...md], [["user-agent", "ua"], ["grpc-previous-rpc-attempts", "1"], ["x-app", "v"]]);
  });

  test("keeps repeated text values given as an array, in order", () => {
    const md = metadataFromHeaders({ "x-multi": ["a", "b", "c"] });
    assert.deepEqual(md.getAll("x-multi"), ["a", "b", "c"]);
  });

  test("does not split text values on commas", () => {
    assert.deepEqual(metadataFromHeaders({ "x-list": "a, b,c" }).getAll("x-list"), ["a, b,c"]);
  });

  test("skips undefined header values", () => {
    assert.equal(metadataFromHeaders({ "x-none": undefined }).size, 0);
  });

  const binCases: [name: string, header: string | string[], want: number[][]][] = [
    ["padded base64", "AAEC/w==", [[0, 1, 2, 255]]],
    ["unpadded base64", "AAEC/w", [[0, 1, 2, 255]]],
    ["URL-safe base64", "-_8", [[0xfb, 0xff]]],
    ["an empty value", "", [[]]],
    ["comma-joined values, padded and not", "AQ==,AgM,BAUG", [[1], [2, 3], [4, 5, 6]]],
    ["comma-joined values with spaces", "AQ==, AgM", [[1], [2, 3]]],
    ["an array of values, one of them comma-joined", ["AQ", "Ag,Aw"], [[1], [2], [3]]],
    ["an undecodable value, dropped", "not base64!", []],
    ["an undecodable part among good ones, only it dropped", "AQ,***,Ag==", [[1], [2]]],
    ["a single-character part (never valid base64), dropped", "A,AQ", [[1]]],
  ];
  for (const [name, header, want] of binCases) {
    test(`decodes a -bin header with ${name}`, () => {
      const md = metadataFromHeaders({ "x-data-bin": header });
      assert.deepEqual(md.getAll("x-data-bin"), want.map((v) => Uint8Array.from(v)));
    });
  }
});

describe("metadataToHeaders", () => {
  test("writes single values as strings and repeated values as arrays", () => {
    const md = new Metadata().set("one", "1").append("many", "a").append("many", "b");
    assert.deepEqual(metadataToHeaders(md, {}), { one: "1", many: ["a", "b"] });
  });

  test("writes -bin values as unpadded base64", () => {
    const md = new Metadata().set("a-bin", bin(0xff)).append("b-bin", bin(1, 2)).append("b-bin", bin(1, 2, 3)).set("e-bin", bin());
    assert.deepEqual(metadataToHeaders(md, {}), { "a-bin": "/w", "b-bin": ["AQI", "AQID"], "e-bin": "" });
  });

  test("adds to the headers it is given and returns them", () => {
    const headers: Headers = { ":status": "200", "content-type": "application/grpc" };
    const out = metadataToHeaders(new Metadata().set("x", "y"), headers);
    assert.equal(out, headers);
    assert.deepEqual(out, { ":status": "200", "content-type": "application/grpc", x: "y" });
  });

  test("an empty Metadata adds nothing", () => {
    assert.deepEqual(metadataToHeaders(new Metadata(), {}), {});
  });

  test("round-trips through metadataFromHeaders", () => {
    const md = new Metadata()
      .append("x-text", "hello world").append("x-text", "second")
      .append("x-bytes-bin", bin(0, 1, 2, 253, 254, 255)).append("x-bytes-bin", bin())
      .set("x-one-bin", bin(42));
    assert.deepEqual([...metadataFromHeaders(metadataToHeaders(md, {}))], [...md]);
  });
});

describe("isReservedKey", () => {
  const cases: [key: string, want: boolean][] = [
    [":authority", true], ["grpc-status", true], ["te", true], ["content-type", true],
    ["grpc-previous-rpc-attempts", false], ["user-agent", false], ["x-custom", false],
  ];
  for (const [key, want] of cases) {
    test(`${JSON.stringify(key)} is ${want ? "" : "not "}a key the library strips from received metadata`, () => {
      assert.equal(isReservedKey(key), want);
    });
  }
});
