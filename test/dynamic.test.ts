/**
 * Dynamic calls: methods known only from a DescMethod at run time, as reflection
 * clients, the CLI and gateways know them. The client side uses createMethodCaller
 * with descriptors rebuilt from serialized FileDescriptorProtos; the server side
 * serves descriptors with server.addMethod. Both interoperate with generated stubs.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { create, createFileRegistry, fromBinary, toBinary, toJson, type DescMessage, type DescMethod, type DescService, type Message } from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { FieldDescriptorProto_Label, FieldDescriptorProto_Type, FileDescriptorProtoSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { Server, createChannel, createClient, createMethodCaller, credentials, type Channel } from "../src/index.js";
import { Echo, file_echo } from "./gen/echo_pb.js";
import { echoService, startServer } from "./helpers/server.js";

type MethodKind = DescMethod["methodKind"];

/** Narrows a descriptor known only at run time to its kind, as dynamic callers must. */
function hasKind<K extends MethodKind>(method: DescMethod, kind: K): method is DescMethod & { methodKind: K } {
  return method.methodKind === kind;
}

function methodOf<K extends MethodKind>(service: DescService, name: string, kind: K): DescMethod & { methodKind: K } {
  const method = service.methods.find((m) => m.name === name);
  assert.ok(method !== undefined, `${service.typeName} has no method ${name}`);
  assert.ok(hasKind(method, kind), `${name} is ${method.methodKind}, not ${kind}`);
  return method;
}

/**
 * A service rebuilt from the bytes of its file's FileDescriptorProto, as a reflection
 * client receives them: no generated code and no shared descriptor objects.
 */
function serviceFromBytes(bytes: Uint8Array, typeName: string): DescService {
  const registry = createFileRegistry(fromBinary(FileDescriptorProtoSchema, bytes), () => undefined);
  const service = registry.getService(typeName);
  assert.ok(service !== undefined, `no service ${typeName}`);
  return service;
}

/** A field of a message whose type is known only at run time. */
function field(desc: DescMessage, message: Message, localName: string): unknown {
  const f = desc.fields.find((x) => x.localName === localName);
  assert.ok(f !== undefined, `${desc.typeName} has no field ${localName}`);
  return reflect(desc, message).get(f);
}

function int32(desc: DescMessage, message: Message, localName: string): number {
  const value = field(desc, message, localName);
  assert.ok(typeof value === "number");
  return value;
}

function text(desc: DescMessage, message: Message, localName: string): string {
  const value = field(desc, message, localName);
  assert.ok(typeof value === "string");
  return value;
}

/**
 * A schema that exists in no .proto file of this repository:
 * package grpcts.dynamic; service Calculator { rpc Add(Pair) returns (Sum); rpc CountTo(Sum) returns (stream Sum); }
 */
const int32Type = FieldDescriptorProto_Type.INT32;
const optional = FieldDescriptorProto_Label.OPTIONAL;
const calculatorFile: FileDescriptorProto = create(FileDescriptorProtoSchema, {
  name: "grpcts/dynamic/calculator.proto",
  package: "grpcts.dynamic",
  syntax: "proto3",
  messageType: [
    {
      name: "Pair",
      field: [
        { name: "a", number: 1, type: int32Type, label: optional, jsonName: "a" },
        { name: "b", number: 2, type: int32Type, label: optional, jsonName: "b" },
      ],
    },
    { name: "Sum", field: [{ name: "sum", number: 1, type: int32Type, label: optional, jsonName: "sum" }] },
  ],
  service: [
    {
      name: "Calculator",
      method: [
        { name: "Add", inputType: ".grpcts.dynamic.Pair", outputType: ".grpcts.dynamic.Sum" },
        { name: "CountTo", inputType: ".grpcts.dynamic.Sum", outputType: ".grpcts.dynamic.Sum", serverStreaming: true },
      ],
    },
  ],
});
const calculatorBytes = toBinary(FileDescriptorProtoSchema, calculatorFile);

describe("a client calling methods known only from their DescMethod", () => {
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;
  // The client knows Echo only from bytes, not from test/gen/echo_pb.ts.
  const echo = serviceFromBytes(toBinary(FileDescriptorProtoSchema, file_echo.proto), "grpcts.test.Echo");

  before(async () => {
    env = await startServer((s) => s.add(Echo, echoService)); // served with the generated stubs
    channel = createChannel(env.target, credentials.insecure());
  });
  after(async () => {
    channel.close();
    await env.close();
  });

  test("the rebuilt descriptor is not the generated one", () => {
    assert.notEqual(echo, Echo);
    assert.equal(echo.typeName, Echo.typeName);
  });

  test("a dynamic unary call sends and receives messages of the runtime schema", async () => {
    const method = methodOf(echo, "Unary", "unary");
    const res = await createMethodCaller(method, channel)({ message: "dynamic hello" });
    assert.equal(res.$typeName, "grpcts.test.EchoResponse");
    assert.deepEqual(toJson(method.output, res), { message: "dynamic hello" });
  });

  test("a dynamic server-streaming call is an async iterable", async () => {
    const method = methodOf(echo, "ServerStream", "server_streaming");
    const got: number[] = [];
    for await (const res of createMethodCaller(method, channel)({ message: "s", count: 3 })) got.push(int32(method.output, res, "index"));
    assert.deepEqual(got, [0, 1, 2]);
  });

  test("a dynamic client-streaming call takes plain objects and runtime messages alike", async () => {
    const method = methodOf(echo, "ClientStream", "client_streaming");
    const res = await createMethodCaller(method, channel)([{ message: "a" }, create(method.input, { message: "b" })]);
    assert.equal(text(method.output, res, "message"), "a,b");
  });

  test("a dynamic bidi call streams both ways", async () => {
    const method = methodOf(echo, "Bidi", "bidi_streaming");
    const got: string[] = [];
    for await (const res of createMethodCaller(method, channel)([{ message: "x" }, { message: "y" }])) got.push(text(method.output, res, "message"));
    assert.deepEqual(got, ["x", "y"]);
  });
});

describe("a server serving methods known only from their DescMethod", () => {
  let server: Server;
  let env: Awaited<ReturnType<typeof startServer>>;
  let channel: Channel;

  before(async () => {
    // The server knows both services only from runtime descriptors.
    const echo = serviceFromBytes(toBinary(FileDescriptorProtoSchema, file_echo.proto), "grpcts.test.Echo");
    const calculator = serviceFromBytes(calculatorBytes, "grpcts.dynamic.Calculator");
    env = await startServer((s) => {
      server = s;
      const unary = methodOf(echo, "Unary", "unary");
      s.addMethod(unary, (req) => create(unary.output, { message: `dynamic ${text(unary.input, req, "message")}` }));
      const serverStream = methodOf(echo, "ServerStream", "server_streaming");
      s.addMethod(serverStream, async function* (req) {
        for (let i = 0; i < int32(serverStream.input, req, "count"); i++) yield create(serverStream.output, { index: i });
      });
      const clientStream = methodOf(echo, "ClientStream", "client_streaming");
      s.addMethod(clientStream, async (requests) => {
        let n = 0;
        for await (const _ of requests) n++;
        return create(clientStream.output, { index: n });
      });
      const bidi = methodOf(echo, "Bidi", "bidi_streaming");
      s.addMethod(bidi, async function* (requests) {
        for await (const req of requests) yield create(bidi.output, { message: text(bidi.input, req, "message").toUpperCase() });
      });
      const add = methodOf(calculator, "Add", "unary");
      s.addMethod(add, (req) => create(add.output, { sum: int32(add.input, req, "a") + int32(add.input, req, "b") }));
      const countTo = methodOf(calculator, "CountTo", "server_streaming");
      s.addMethod(countTo, async function* (req, ctx) {
        for (let i = 1; i <= int32(countTo.input, req, "sum"); i++) {
          ctx.signal.throwIfAborted();
          yield create(countTo.output, { sum: i });
        }
      });
    });
    channel = createChannel(env.target, credentials.insecure());
  });
  after(async () => {
    channel.close();
    await env.close();
  });

  test("the server lists the services it serves from descriptors", () => {
    assert.deepEqual(server.services().sort(), ["grpcts.dynamic.Calculator", "grpcts.test.Echo"]);
  });

  test("a generated client calls every kind of method served with addMethod", async () => {
    const client = createClient(Echo, channel);
    assert.equal((await client.unary({ message: "hi" })).message, "dynamic hi");
    const indexes: number[] = [];
    for await (const res of client.serverStream({ count: 3 })) indexes.push(res.index);
    assert.deepEqual(indexes, [0, 1, 2]);
    assert.equal((await client.clientStream([{}, {}, {}, {}])).index, 4);
    const shouted: string[] = [];
    for await (const res of client.bidi([{ message: "a" }, { message: "b" }])) shouted.push(res.message);
    assert.deepEqual(shouted, ["A", "B"]);
  });

  test("a dynamic client calls a schema that exists only at run time on both sides", async () => {
    // The client rebuilds the schema from bytes on its own: no descriptor object is shared with the server.
    const calculator = serviceFromBytes(calculatorBytes, "grpcts.dynamic.Calculator");
    const add = methodOf(calculator, "Add", "unary");
    const sum = await createMethodCaller(add, channel)({ a: 40, b: 2 });
    assert.equal(sum.$typeName, "grpcts.dynamic.Sum");
    assert.equal(int32(add.output, sum, "sum"), 42);

    const countTo = methodOf(calculator, "CountTo", "server_streaming");
    const counted: number[] = [];
    for await (const res of createMethodCaller(countTo, channel)({ sum: 4 })) counted.push(int32(countTo.output, res, "sum"));
    assert.deepEqual(counted, [1, 2, 3, 4]);
  });
});
