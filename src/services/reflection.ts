/**
 * Server reflection (grpc/grpc doc/server-reflection.md), v1 and v1alpha: lists the
 * services a server serves and answers with serialized FileDescriptorProtos taken from
 * the descriptors protoc-gen-es emitted — no second copy of the schema. Each file
 * answer carries the file and every transitive import not yet sent on the stream;
 * misses are error_response entries and the stream goes on.
 */
import { toBinary, type DescEnum, type DescExtension, type DescFile, type DescMessage, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code } from "../protocol/status.js";
import type { Server } from "../server/server.js";
import type { HandlerContext } from "../server/handler.js";
import { ServerReflection as ServerReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** The request shape shared by v1 and v1alpha (they differ only in package). */
interface ReflectionRequest {
  host: string;
  messageRequest:
    | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
    | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
    | { case: undefined; value?: undefined };
}

type ReflectionResponseBody =
  | { case: "fileDescriptorResponse"; value: { fileDescriptorProto: Uint8Array[] } }
  | { case: "allExtensionNumbersResponse"; value: { baseTypeName: string; extensionNumber: number[] } }
  | { case: "listServicesResponse"; value: { service: { name: string }[] } }
  | { case: "errorResponse"; value: { errorCode: number; errorMessage: string } };

/** Where each name lives, built from the served services' files and their imports. */
class DescriptorIndex {
  readonly files = new Map<string, DescFile>();
  readonly symbols = new Map<string, DescFile>();
  readonly extensions = new Map<string, Map<number, DescFile>>();

  constructor(readonly services: readonly DescService[]) {
    for (const service of services) this.addFile(service.file);
  }

  private addFile(file: DescFile): void {
    // DescFile.name drops ".proto"; clients ask by the import path, which proto.name keeps.
    if (this.files.has(file.proto.name)) return;
    this.files.set(file.proto.name, file);
    for (const dep of file.dependencies) this.addFile(dep);
    for (const service of file.services) {
      this.symbols.set(service.typeName, file);
      for (const method of service.methods) this.symbols.set(`${service.typeName}.${method.name}`, file);
    }
    for (const en of file.enums) this.addEnum(en, file);
    for (const message of file.messages) this.addMessage(message, file);
    for (const ext of file.extensions) this.addExtension(ext, file);
  }

  private addEnum(en: DescEnum, file: DescFile): void {
    this.symbols.set(en.typeName, file);
  }

  private addMessage(message: DescMessage, file: DescFile): void {
    this.symbols.set(message.typeName, file);
    for (const nested of message.nestedMessages) this.addMessage(nested, file);
    for (const en of message.nestedEnums) this.addEnum(en, file);
    for (const ext of message.nestedExtensions) this.addExtension(ext, file);
  }

  private addExtension(ext: DescExtension, file: DescFile): void {
    this.symbols.set(ext.typeName, file);
    const extendee = ext.extendee.typeName;
    let byNumber = this.extensions.get(extendee);
    if (byNumber === undefined) this.extensions.set(extendee, (byNumber = new Map()));
    byNumber.set(ext.number, file);
  }
}

/** Answers one reflection stream; remembers which files it already sent. */
class ReflectionSession {
  private readonly sent = new Set<string>();

  constructor(private readonly index: DescriptorIndex) {}

  answer(req: ReflectionRequest): ReflectionResponseBody {
    const request = req.messageRequest;
    switch (request.case) {
      case "listServices":
        return { case: "listServicesResponse", value: { service: this.index.services.map((s) => ({ name: s.typeName })) } };
      case "fileByFilename":
        return this.fileAnswer(this.index.files.get(request.value), `file ${JSON.stringify(request.value)}`);
      case "fileContainingSymbol":
        return this.fileAnswer(this.index.symbols.get(request.value.replace(/^\./, "")), `symbol ${JSON.stringify(request.value)}`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = request.value;
        return this.fileAnswer(this.index.extensions.get(containingType)?.get(extensionNumber), `extension ${extensionNumber} of ${JSON.stringify(containingType)}`);
      }
      case "allExtensionNumbersOfType": {
        const name = request.value;
        if (!this.index.symbols.has(name)) return notFound(`type ${JSON.stringify(name)}`);
        const numbers = [...(this.index.extensions.get(name)?.keys() ?? [])].sort((a, b) => a - b);
        return { case: "allExtensionNumbersResponse", value: { baseTypeName: name, extensionNumber: numbers } };
      }
      case undefined:
        return { case: "errorResponse", value: { errorCode: Code.INVALID_ARGUMENT, errorMessage: "the request names no message_request" } };
    }
  }

  private fileAnswer(file: DescFile | undefined, what: string): ReflectionResponseBody {
    if (file === undefined) return notFound(what);
    const out: Uint8Array[] = [];
    const visit = (f: DescFile, requested: boolean) => {
      // The requested file always comes back; its imports only once per stream.
      if (!requested && this.sent.has(f.proto.name)) return;
      if (!requested) this.sent.add(f.proto.name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      for (const dep of f.dependencies) visit(dep, false);
    };
    this.sent.add(file.proto.name);
    visit(file, true);
    return { case: "fileDescriptorResponse", value: { fileDescriptorProto: out } };
  }
}

function notFound(what: string): ReflectionResponseBody {
  return { case: "errorResponse", value: { errorCode: Code.NOT_FOUND, errorMessage: `${what} not found` } };
}

async function* reflect(server: Server, requests: AsyncIterable<ReflectionRequest>, _ctx: HandlerContext) {
  // Built per stream: services added after the server started are listed too.
  const session = new ReflectionSession(new DescriptorIndex(server.serviceDescriptors()));
  for await (const request of requests) {
    yield { validHost: request.host, originalRequest: request, messageResponse: session.answer(request) };
  }
}

/**
 * Serves grpc.reflection.v1.ServerReflection and grpc.reflection.v1alpha.ServerReflection
 * on `server` (one line to enable): every service the server serves, reflection included.
 */
export function addReflectionService(server: Server): void {
  // v1 and v1alpha have the same fields and numbers, so one handler serves both; the casts
  // only tell TypeScript that the two generated packages' shapes line up.
  server.add(ServerReflectionV1, {
    serverReflectionInfo: (requests, ctx) => reflect(server, requests, ctx) as never,
  });
  server.add(ServerReflectionV1Alpha, {
    serverReflectionInfo: (requests, ctx) => reflect(server, requests, ctx) as never,
  });
}
