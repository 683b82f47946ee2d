import assert from "node:assert/strict";
import { describe, test } from "node:test";
import * as zlib from "node:zlib";
import { type Codec } from "../protocol/compression.js";
import { defaultCodecs, deflateCodec, gzipCodec } from "./zlib.js";

const codecs: [Codec, peerCompress: (b: Uint8Array) => Uint8Array, peerDecompress: (b: Uint8Array) => Uint8Array][] = [
  [gzipCodec, zlib.gzipSync, zlib.gunzipSync],
  [deflateCodec, zlib.deflateSync, zlib.inflateSync],
];

function sample(length: number): Uint8Array {
  // Compressible but not constant: a repeating sentence with a counter in it.
  let text = "";
  for (let i = 0; text.length < length; i++) text += `message ${i} of many. `;
  const out = new TextEncoder().encode(text).subarray(0, length);
  assert.equal(out.length, length);
  return out;
}

test("defaultCodecs() offers gzip then deflate, and identity in accept-encoding", () => {
  const registry = defaultCodecs();
  assert.deepEqual(registry.names(), ["gzip", "deflate"]);
  assert.equal(registry.acceptEncoding, "gzip,deflate,identity");
  assert.equal(registry.get("gzip"), gzipCodec);
  assert.equal(registry.get("deflate"), deflateCodec);
});

for (const [codec, peerCompress, peerDecompress] of codecs) {
  describe(`${codec.name} codec`, () => {
    for (const length of [0, 1, 100, 64 * 1024, 1024 * 1024]) {
      test(`round-trips ${length} bytes`, async () => {
        const data = sample(length);
        const compressed = await codec.compress(data);
        if (length >= 100) assert.ok(compressed.length < data.length, "repetitive input shrinks");
        assert.deepEqual(new Uint8Array(await codec.decompress(compressed, length)), data);
      });
    }

    test("round-trips random, incompressible bytes", async () => {
      const data = Uint8Array.from({ length: 4096 }, (_, i) => (Math.imul(i + 1, 2654435761) >>> 13) & 0xff);
      const out = await codec.decompress(await codec.compress(data), data.length);
      assert.deepEqual(new Uint8Array(out), data);
    });

    test(`output is readable by node:zlib's ${codec.name} and it reads node:zlib's output`, async () => {
      const data = sample(5000);
      assert.deepEqual(new Uint8Array(peerDecompress(await codec.compress(data))), data);
      assert.deepEqual(new Uint8Array(await codec.decompress(peerCompress(data), data.length)), data);
    });

    test("decompresses output exactly at maxBytes", async () => {
      const data = sample(1000);
      const out = await codec.decompress(await codec.compress(data), 1000);
      assert.equal(out.length, 1000);
    });

    test("rejects output one byte past maxBytes with a RangeError", async () => {
      const compressed = await codec.compress(sample(1001));
      await assert.rejects(codec.decompress(compressed, 1000), RangeError);
    });

    test("stops a decompression bomb at maxBytes with a RangeError", async () => {
      const bomb = await codec.compress(new Uint8Array(16 * 1024 * 1024));
      assert.ok(bomb.length < 64 * 1024, `16 MiB of zeros compress to ${bomb.length} bytes`);
      await assert.rejects(codec.decompress(bomb, 4 * 1024 * 1024), (err: unknown) => {
        assert.ok(err instanceof RangeError);
        assert.match(err.message, /4194304/);
        return true;
      });
    });

    test("decompresses an empty message with maxBytes 0", async () => {
      const out = await codec.decompress(await codec.compress(new Uint8Array(0)), 0);
      assert.equal(out.length, 0);
    });

    test("rejects a one-byte message with maxBytes 0 with a RangeError", async () => {
      await assert.rejects(codec.decompress(await codec.compress(Uint8Array.of(7)), 0), RangeError);
    });

    test("accepts a maxBytes larger than a Buffer can hold", async () => {
      const data = sample(10);
      const out = await codec.decompress(await codec.compress(data), Number.POSITIVE_INFINITY);
      assert.deepEqual(new Uint8Array(out), data);
    });

    const corrupt: [name: string, bytes: () => Promise<Uint8Array>][] = [
      ["random bytes", async () => Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4)],
      ["an empty input", async () => new Uint8Array(0)],
      ["a truncated stream", async () => (await codec.compress(sample(1000))).subarray(0, 20)],
      ["a stream with a flipped checksum byte", async () => {
        const good = await codec.compress(sample(1000));
        const bad = Uint8Array.from(good);
        bad[bad.length - 1]! ^= 0xff;
        return bad;
      }],
    ];
    for (const [name, bytes] of corrupt) {
      test(`rejects ${name} with an error that is not a RangeError`, async () => {
        const input = await bytes();
        await assert.rejects(codec.decompress(input, 1024 * 1024), (err: unknown) => {
          assert.ok(err instanceof Error, "rejects with an Error");
          assert.ok(!(err instanceof RangeError), `not a size-limit error: ${String(err)}`);
          return true;
        });
      });
    }
  });
}

describe("deflate is the zlib format (RFC 1950), not raw deflate or gzip", () => {
  test("output starts with the zlib header: CMF 0x78 and a valid FCHECK", async () => {
    const out = await deflateCodec.compress(sample(100));
    assert.equal(out[0], 0x78);
    assert.equal(((out[0]! << 8) | out[1]!) % 31, 0);
  });

  test("gzip output starts with the gzip magic 1F 8B", async () => {
    const out = await gzipCodec.compress(sample(100));
    assert.deepEqual([out[0], out[1]], [0x1f, 0x8b]);
  });

  test("the deflate codec rejects raw deflate and gzip data", async () => {
    const data = sample(100);
    await assert.rejects(deflateCodec.decompress(zlib.deflateRawSync(data), 1000));
    await assert.rejects(deflateCodec.decompress(zlib.gzipSync(data), 1000));
  });

  test("the gzip codec rejects zlib-format data", async () => {
    await assert.rejects(gzipCodec.decompress(zlib.deflateSync(sample(100)), 1000));
  });
});
