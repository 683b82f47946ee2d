import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { create, type DescMessage, type MessageShape } from "@bufbuild/protobuf";
import { PayloadSchema, StreamRequestSchema } from "../../../bench/gen/bench_pb.js";
import { SimpleRequestSchema } from "../../../interop/gen/grpc/testing/messages_pb.js";
import { compileFromInit, getMessageMaker } from "./init-message.js";
import { Proto2MessageSchema } from "./testdata/gen/grpcts/encoder/test/proto2_pb.js";
import { Proto3MessageSchema } from "./testdata/gen/grpcts/encoder/test/proto3_pb.js";
import { corpusSchemas, seedOf } from "./testdata/corpus.js";
import { randomMessage, Rng } from "./testdata/random-message.js";

const compiled = corpusSchemas.filter((desc) => compileFromInit(desc) !== undefined);

/**
 * Stricter than deepStrictEqual: the same prototypes, own property names in the same
 * order, -0 vs 0, and the same object wherever create kept the init's own (a list, a
 * Uint8Array) rather than making one.
 */
function assertSame(got: unknown, want: unknown, init: unknown, path: string): void {
  if (typeof want !== "object" || want === null) {
    assert.ok(Object.is(got, want), `${path}: got ${String(got)}, want ${String(want)}`);
    return;
  }
  assert.ok(typeof got === "object" && got !== null, `${path}: not an object`);
  assert.equal(Object.getPrototypeOf(got), Object.getPrototypeOf(want), `${path}: prototype`);
  if (want instanceof Uint8Array) {
    assert.deepEqual([...(got as Uint8Array)], [...want], `${path}: bytes`);
    return;
  }
  const gotRecord = got as Record<string, unknown>;
  const wantRecord = want as Record<string, unknown>;
  const initRecord = (typeof init === "object" && init !== null ? init : {}) as Record<string, unknown>;
  assert.deepEqual(Object.getOwnPropertyNames(got), Object.getOwnPropertyNames(want), `${path}: own properties`);
  for (const key of Object.getOwnPropertyNames(want)) {
    const own = initRecord[key];
    if (typeof own === "object" && own !== null) {
      assert.equal(gotRecord[key] === own, wantRecord[key] === own, `${path}.${key}: the init's own object, or a new one, as create() does`);
    }
    assertSame(gotRecord[key], wantRecord[key], own, `${path}.${key}`);
  }
}

/** An init object from a random message: some fields left out, null or undefined, bytes sometimes as number arrays. */
function randomInit(desc: DescMessage, rng: Rng): Record<string, unknown> {
  const message = randomMessage(desc, rng, { clean: true, maxDepth: 1 }) as Record<string, unknown>;
  const init: Record<string, unknown> = {};
  for (const field of desc.fields) {
    const value = message[field.localName];
    const roll = rng.int(8);
    if (roll === 0) continue;
    if (roll === 1) init[field.localName] = null;
    else if (roll === 2) init[field.localName] = undefined;
    else if (roll === 3 && value instanceof Uint8Array) init[field.localName] = [...value];
    else if (roll === 3 && Array.isArray(value)) init[field.localName] = value.map((item: unknown) => (item instanceof Uint8Array ? [...item] : item));
    else init[field.localName] = value;
  }
  return init;
}

describe("getMessageMaker", () => {
  test(`compiles the types whose fields are all plain scalars, enums and their lists (${compiled.length} of ${corpusSchemas.length})`, () => {
    const names = compiled.map((desc) => desc.typeName);
    for (const desc of [PayloadSchema, StreamRequestSchema]) assert.ok(names.includes(desc.typeName), desc.typeName);
    // Message fields, oneofs, maps and explicit presence are left to create().
    for (const desc of [SimpleRequestSchema, Proto3MessageSchema, Proto2MessageSchema]) assert.ok(!names.includes(desc.typeName), desc.typeName);
  });

  for (const desc of compiled) {
    test(`${desc.typeName}: what create() makes of random init objects`, () => {
      const rng = new Rng(seedOf(`init ${desc.typeName}`));
      const make = getMessageMaker(desc);
      for (let i = 0; i < 200; i++) {
        const init = randomInit(desc, rng);
        assertSame(make(init), create(desc, init as never), init, `${desc.typeName} #${i}`);
      }
      assertSame(compileFromInit(desc)!(undefined), create(desc), undefined, `${desc.typeName} from undefined`);
    });
  }

  test("a message of the type is returned as it is; anything else is an init object", () => {
    const make = getMessageMaker(PayloadSchema);
    const message = create(PayloadSchema, { body: new Uint8Array([1]) });
    assert.equal(make(message), message);
    // A message of another type with a field of the same name: create copies that field.
    const other = create(StreamRequestSchema, { count: 3 }) as unknown as MessageShape<typeof PayloadSchema>;
    assertSame(make(other), create(PayloadSchema, other as never), other, "another type");
  });

  test("types left to create() give create's messages", () => {
    for (const desc of [SimpleRequestSchema, Proto3MessageSchema, Proto2MessageSchema]) {
      const rng = new Rng(seedOf(`init ${desc.typeName}`));
      const init = randomInit(desc, rng);
      assertSame(getMessageMaker(desc)(init as never), create(desc, init as never), init, desc.typeName);
    }
  });
});
