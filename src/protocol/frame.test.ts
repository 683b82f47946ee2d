import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { encodeFrame, flagCompressed, flagTrailers, FrameDecoder, frameHeaderBytes, writeFrameHeader } from "./frame.js";

type Event =
  | { kind: "frame"; flags: number; payload: number[] }
  | { kind: "tooLarge"; length: number; limit: number };

/** A decoder whose sink records what it was given, payloads copied (they may be views). */
function recordingDecoder(maxMessageBytes: number, onFrame?: (decoder: FrameDecoder) => void) {
  const events: Event[] = [];
  const decoder: FrameDecoder = new FrameDecoder(
    {
      onFrame(flags, bytes, start, end) {
        events.push({ kind: "frame", flags, payload: [...bytes.subarray(start, end)] });
        onFrame?.(decoder);
      },
      onFrameTooLarge(length, limit) {
        events.push({ kind: "tooLarge", length, limit });
      },
    },
    maxMessageBytes,
  );
  return { decoder, events };
}

function bytes(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function frameEvent(payload: Uint8Array, flags = 0): Event {
  return { kind: "frame", flags, payload: [...payload] };
}

describe("encodeFrame", () => {
  const cases: [name: string, payload: Uint8Array, flags: number | undefined, header: number[]][] = [
    ["an empty message", new Uint8Array(0), undefined, [0, 0, 0, 0, 0]],
    ["a 3-byte message", Uint8Array.of(1, 2, 3), undefined, [0, 0, 0, 0, 3]],
    ["a compressed message", Uint8Array.of(9), flagCompressed, [1, 0, 0, 0, 1]],
    ["a gRPC-Web trailers frame", Uint8Array.of(9), flagTrailers, [0x80, 0, 0, 0, 1]],
    ["a 0x1_02_03 byte message (big-endian length)", new Uint8Array(0x010203), undefined, [0, 0, 0x01, 0x02, 0x03]],
  ];
  for (const [name, payload, flags, header] of cases) {
    test(`writes flag byte, 4-byte big-endian length and payload for ${name}`, () => {
      const frame = encodeFrame(payload, flags);
      assert.equal(frame.length, frameHeaderBytes + payload.length);
      assert.deepEqual([...frame.subarray(0, frameHeaderBytes)], header);
      assert.deepEqual(frame.subarray(frameHeaderBytes), payload);
    });
  }

  test("writeFrameHeader writes the same header as encodeFrame at an offset", () => {
    const out = new Uint8Array(2 + frameHeaderBytes).fill(0xee);
    writeFrameHeader(out, 2, flagCompressed, 0xfffffffe);
    assert.deepEqual([...out], [0xee, 0xee, 1, 0xff, 0xff, 0xff, 0xfe]);
  });
});

describe("FrameDecoder", () => {
  test("delivers a message fed one byte at a time", () => {
    const payload = bytes(10);
    const { decoder, events } = recordingDecoder(100);
    const wire = encodeFrame(payload);
    for (let i = 0; i < wire.length; i++) {
      assert.equal(events.length, 0, `no frame before byte ${i}`);
      decoder.push(wire.subarray(i, i + 1));
    }
    assert.deepEqual(events, [frameEvent(payload)]);
    assert.equal(decoder.midMessage, false);
  });

  test("delivers several messages fed one byte at a time, including empty ones", () => {
    const messages = [bytes(3), new Uint8Array(0), bytes(7, 5), new Uint8Array(0)];
    const { decoder, events } = recordingDecoder(100);
    const wire = concat(...messages.map((m) => encodeFrame(m)));
    for (const byte of wire) decoder.push(Uint8Array.of(byte));
    assert.deepEqual(events, messages.map((m) => frameEvent(m)));
  });

  // Split points chosen to fall inside the header, on its boundary and inside the payload.
  for (const split of [1, 4, 5, 6, 12, 14]) {
    test(`reassembles a message split across two chunks at byte ${split}`, () => {
      const payload = bytes(10);
      const wire = encodeFrame(payload);
      const { decoder, events } = recordingDecoder(100);
      decoder.push(wire.subarray(0, split));
      assert.deepEqual(events, []);
      assert.equal(decoder.midMessage, true);
      decoder.push(wire.subarray(split));
      assert.deepEqual(events, [frameEvent(payload)]);
      assert.equal(decoder.midMessage, false);
    });
  }

  test("reassembles a message spread over many chunks of uneven size", () => {
    const payload = bytes(1000);
    const wire = encodeFrame(payload);
    const { decoder, events } = recordingDecoder(1000);
    const sizes = [2, 3, 1, 500, 17, 1000];
    let pos = 0;
    for (const size of sizes) {
      decoder.push(wire.subarray(pos, pos + size));
      pos += size;
    }
    assert.equal(pos >= wire.length, true);
    assert.deepEqual(events, [frameEvent(payload)]);
  });

  test("delivers several messages from one chunk, in order", () => {
    const a = bytes(4, 1);
    const b = bytes(0);
    const c = bytes(6, 3);
    const { decoder, events } = recordingDecoder(100);
    decoder.push(concat(encodeFrame(a), encodeFrame(b, flagCompressed), encodeFrame(c)));
    assert.deepEqual(events, [frameEvent(a), frameEvent(b, flagCompressed), frameEvent(c)]);
    assert.equal(decoder.midMessage, false);
  });

  test("delivers whole messages from a chunk and keeps the tail of the next one", () => {
    const a = bytes(4, 1);
    const b = bytes(9, 2);
    const wire = concat(encodeFrame(a), encodeFrame(b));
    const { decoder, events } = recordingDecoder(100);
    decoder.push(wire.subarray(0, 12));
    assert.deepEqual(events, [frameEvent(a)]);
    assert.equal(decoder.midMessage, true);
    decoder.push(wire.subarray(12));
    assert.deepEqual(events, [frameEvent(a), frameEvent(b)]);
  });

  test("delivers an empty message as a zero-length payload", () => {
    const { decoder, events } = recordingDecoder(0);
    decoder.push(encodeFrame(new Uint8Array(0)));
    assert.deepEqual(events, [{ kind: "frame", flags: 0, payload: [] }]);
  });

  test("accepts a message exactly at the limit", () => {
    const payload = bytes(64);
    const { decoder, events } = recordingDecoder(64);
    decoder.push(encodeFrame(payload));
    assert.deepEqual(events, [frameEvent(payload)]);
  });

  test("accepts a message exactly at the limit when it arrives in pieces", () => {
    const payload = bytes(64);
    const wire = encodeFrame(payload);
    const { decoder, events } = recordingDecoder(64);
    decoder.push(wire.subarray(0, 3));
    decoder.push(wire.subarray(3, 40));
    decoder.push(wire.subarray(40));
    assert.deepEqual(events, [frameEvent(payload)]);
  });

  test("reports a message one byte past the limit from its header alone and delivers nothing after", () => {
    const { decoder, events } = recordingDecoder(64);
    const tooLong = encodeFrame(bytes(65));
    // Only the header: the limit is checked before any payload byte is buffered.
    decoder.push(tooLong.subarray(0, frameHeaderBytes));
    assert.deepEqual(events, [{ kind: "tooLarge", length: 65, limit: 64 }]);
    decoder.push(tooLong.subarray(frameHeaderBytes));
    decoder.push(encodeFrame(bytes(1)));
    assert.deepEqual(events, [{ kind: "tooLarge", length: 65, limit: 64 }]);
  });

  test("stops at an oversized frame that follows a good one in the same chunk", () => {
    const good = bytes(2);
    const { decoder, events } = recordingDecoder(10);
    decoder.push(concat(encodeFrame(good), encodeFrame(bytes(11)), encodeFrame(bytes(1))));
    assert.deepEqual(events, [frameEvent(good), { kind: "tooLarge", length: 11, limit: 10 }]);
  });

  test("reports the full 32-bit declared length of a huge frame without allocating it", () => {
    const { decoder, events } = recordingDecoder(4 * 1024 * 1024);
    decoder.push(Uint8Array.of(0, 0xff, 0xff, 0xff, 0xff));
    assert.deepEqual(events, [{ kind: "tooLarge", length: 0xffffffff, limit: 4 * 1024 * 1024 }]);
  });

  test("reports a split header past the limit once the fifth header byte arrives", () => {
    const { decoder, events } = recordingDecoder(3);
    const header = encodeFrame(bytes(4)).subarray(0, frameHeaderBytes);
    decoder.push(header.subarray(0, 2));
    assert.deepEqual(events, []);
    decoder.push(header.subarray(2));
    assert.deepEqual(events, [{ kind: "tooLarge", length: 4, limit: 3 }]);
  });

  const midMessageCases: [name: string, prefix: Uint8Array, want: boolean][] = [
    ["nothing received", new Uint8Array(0), false],
    ["one header byte", Uint8Array.of(0), true],
    ["four header bytes", Uint8Array.of(0, 0, 0, 0), true],
    ["a whole header of a non-empty message", Uint8Array.of(0, 0, 0, 0, 2), true],
    ["a header and part of the payload", Uint8Array.of(0, 0, 0, 0, 2, 9), true],
    ["a whole message", Uint8Array.of(0, 0, 0, 0, 2, 9, 9), false],
    ["a whole empty message", Uint8Array.of(0, 0, 0, 0, 0), false],
  ];
  for (const [name, prefix, want] of midMessageCases) {
    test(`midMessage is ${want} after ${name}`, () => {
      const { decoder } = recordingDecoder(100);
      decoder.push(prefix);
      assert.equal(decoder.midMessage, want);
    });
  }

  const flagCases: [name: string, flags: number][] = [
    ["uncompressed (0x00)", 0],
    ["compressed (0x01)", flagCompressed],
    ["gRPC-Web trailers (0x80)", flagTrailers],
    ["compressed trailers (0x81)", flagTrailers | flagCompressed],
    ["reserved bits (0x7e)", 0x7e],
  ];
  for (const [name, flags] of flagCases) {
    test(`passes the flag byte through unchanged: ${name}`, () => {
      const payload = bytes(3);
      const wire = encodeFrame(payload, flags);
      const whole = recordingDecoder(100);
      whole.decoder.push(wire);
      const split = recordingDecoder(100);
      split.decoder.push(wire.subarray(0, 1));
      split.decoder.push(wire.subarray(1, 6));
      split.decoder.push(wire.subarray(6));
      assert.deepEqual(whole.events, [frameEvent(payload, flags)]);
      assert.deepEqual(split.events, [frameEvent(payload, flags)]);
    });
  }

  test("delivers nothing after stop()", () => {
    const { decoder, events } = recordingDecoder(100);
    decoder.push(encodeFrame(bytes(2)).subarray(0, 6));
    decoder.stop();
    decoder.push(encodeFrame(bytes(2)).subarray(6));
    decoder.push(encodeFrame(bytes(2)));
    assert.deepEqual(events, []);
  });

  test("stop() inside onFrame stops later frames of the same chunk (whole-message path)", () => {
    const { decoder, events } = recordingDecoder(100, (d) => d.stop());
    decoder.push(concat(encodeFrame(bytes(2)), encodeFrame(bytes(3))));
    assert.deepEqual(events, [frameEvent(bytes(2))]);
  });

  test("stop() inside onFrame stops later frames of the same chunk (reassembled path)", () => {
    const first = encodeFrame(bytes(4));
    const { decoder, events } = recordingDecoder(100, (d) => d.stop());
    decoder.push(first.subarray(0, 6));
    decoder.push(concat(first.subarray(6), encodeFrame(bytes(3))));
    assert.deepEqual(events, [frameEvent(bytes(4))]);
  });
});
