import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { create, createFileRegistry, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { addHealthService, addReflectionService, createChannel, createClient } from "../src/index.js";
import { ServerReflection, type ServerReflectionResponse } from "../src/gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../src/gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Clock } from "./gen/clock_pb.js";
import { Echo } from "./gen/echo_pb.js";
import { echoService, startServer, type TestServer } from "./helpers/server.js";

let ts: TestServer;
const channels: { close(): void }[] = [];

before(async () => {
  ts = await startServer((server) => {
    server.add(Echo, echoService);
    server.add(Clock, { now: () => ({ seconds: BigInt(Math.floor(Date.now() / 1000)) }) });
    addHealthService(server);
    addReflectionService(server);
  });
});
after(async () => {
  for (const c of channels) c.close();
  await ts.close();
});

function ourClient() {
  const channel = createChannel(ts.target);
  channels.push(channel);
  return createClient(ServerReflection, channel);
}

test("list_services names every served service, reflection and health included", async () => {
  const responses = [];
  for await (const res of ourClient().serverReflectionInfo([{ host: "", messageRequest: { case: "listServices", value: "" } }])) responses.push(res);
  assert.equal(responses.length, 1);
  const body = responses[0]!.messageResponse;
  assert.equal(body.case, "listServicesResponse");
  const names = body.value!.service.map((s) => s.name).sort();
  assert.deepEqual(names, ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection", "grpcts.test.Clock", "grpcts.test.Echo"]);
});

test("file_containing_symbol finds services, methods, messages and nested enums; misses are error_response and the stream goes on", async () => {
  const symbols = ["grpcts.test.Echo", "grpcts.test.Echo.Bidi", "grpcts.test.EchoRequest", "grpc.health.v1.HealthCheckResponse.ServingStatus", "no.such.Symbol", "grpcts.test.EchoResponse"];
  const answers: string[] = [];
  for await (const res of ourClient().serverReflectionInfo(symbols.map((s) => ({ messageRequest: { case: "fileContainingSymbol" as const, value: s } })))) {
    const body = res.messageResponse;
    if (body.case === "errorResponse") answers.push(`error ${body.value.errorCode}`);
    else if (body.case === "fileDescriptorResponse") answers.push(fromBinary(FileDescriptorProtoSchema, body.value.fileDescriptorProto[0]!).name);
    else answers.push(String(body.case));
  }
  assert.deepEqual(answers, ["echo.proto", "echo.proto", "echo.proto", "grpc/health/v1/health.proto", "error 5", "echo.proto"]);
});

test("file_by_filename returns the file with its transitive imports, well-known types included, each import once per stream", async () => {
  const res: ServerReflectionResponse[] = [];
  const requests = ["clock.proto", "missing.proto", "clock.proto", "grpc/reflection/v1/reflection.proto"].map((value) => ({ messageRequest: { case: "fileByFilename" as const, value } }));
  for await (const r of ourClient().serverReflectionInfo(requests)) res.push(r);
  const names = (i: number) => (res[i]!.messageResponse.value as { fileDescriptorProto: Uint8Array[] }).fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
  assert.deepEqual(names(0), ["clock.proto", "google/protobuf/empty.proto", "google/protobuf/timestamp.proto"]);
  assert.equal(res[1]!.messageResponse.case, "errorResponse");
  assert.deepEqual(names(2), ["clock.proto"]);
  assert.deepEqual(names(3), ["grpc/reflection/v1/reflection.proto"]);
});

test("all_extension_numbers_of_type answers known types and reports unknown ones", async () => {
  const res: ServerReflectionResponse["messageResponse"][] = [];
  for await (const r of ourClient().serverReflectionInfo([
    { messageRequest: { case: "allExtensionNumbersOfType", value: "grpcts.test.EchoRequest" } },
    { messageRequest: { case: "allExtensionNumbersOfType", value: "no.Such" } },
    { messageRequest: { case: "fileContainingExtension", value: { containingType: "grpcts.test.EchoRequest", extensionNumber: 100 } } },
  ])) res.push(r.messageResponse);
  assert.equal(res[0]!.case, "allExtensionNumbersResponse");
  assert.deepEqual(res[0]!.value, { ...res[0]!.value, baseTypeName: "grpcts.test.EchoRequest", extensionNumber: [] });
  assert.equal(res[1]!.case, "errorResponse");
  assert.equal(res[2]!.case, "errorResponse");
});

test("v1alpha answers like v1", async () => {
  const channel = createChannel(ts.target);
  channels.push(channel);
  const alpha = createClient(ServerReflectionV1Alpha, channel);
  const res = [];
  for await (const r of alpha.serverReflectionInfo([{ messageRequest: { case: "fileContainingSymbol", value: "grpcts.test.Echo" } }])) res.push(r);
  assert.equal(res[0]!.messageResponse.case, "fileDescriptorResponse");
  assert.equal(res[0]!.originalRequest?.messageRequest.value, "grpcts.test.Echo");
});

type JsReflectionResponse = { listServicesResponse?: { service: { name: string }[] }; fileDescriptorResponse?: { fileDescriptorProto: Buffer[] } };
type ReflectionStream = grpc.ClientDuplexStream<object, JsReflectionResponse>;

test("a @grpc/grpc-js reflection client lists services, rebuilds the schema from descriptors and makes a dynamic call", async () => {
  const def = protoLoader.loadSync(new URL("../proto/grpc/reflection/v1/reflection.proto", import.meta.url).pathname, { oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
  const jsClient = new pkg.grpc.reflection.v1.ServerReflection(ts.target, grpc.credentials.createInsecure()) as unknown as grpc.Client & { serverReflectionInfo(): ReflectionStream };
  try {
    const call = jsClient.serverReflectionInfo();
    const answers: JsReflectionResponse[] = [];
    const ended = new Promise<void>((resolve, reject) => {
      call.on("data", (d: JsReflectionResponse) => answers.push(d));
      call.on("end", resolve);
      call.on("error", reject);
    });
    call.write({ listServices: "" });
    call.write({ fileContainingSymbol: "grpcts.test.Echo" });
    call.end();
    await ended;
    const services = answers[0]!.listServicesResponse!.service.map((s: { name: string }) => s.name);
    assert.ok(services.includes("grpcts.test.Echo"));
    const protos: FileDescriptorProto[] = answers[1]!.fileDescriptorResponse!.fileDescriptorProto.map((b: Buffer) => fromBinary(FileDescriptorProtoSchema, b));
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: protos }));
    const service = registry.getService("grpcts.test.Echo");
    assert.ok(service !== undefined);
    const unary = service.methods.find((m) => m.name === "Unary")!;
    const input: DescMessage = unary.input;
    const output: DescMessage = unary.output;
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) =>
      jsClient.makeUnaryRequest(
        `/${service.typeName}/${unary.name}`,
        (msg: Record<string, unknown>) => Buffer.from(toBinary(input, create(input, msg))),
        (bytes: Buffer) => fromBinary(output, bytes) as unknown as Record<string, unknown>,
        { message: "via reflection" },
        (err, res) => (err ? reject(err) : resolve(res!)),
      ),
    );
    assert.equal(reply.message, "via reflection");
  } finally {
    jsClient.close();
  }
});
