/**
 * Interop cases @grpc/grpc-js itself cannot take part in, with the reason found in its
 * source (node_modules/@grpc/grpc-js/build/src, version pinned in package.json). The
 * runner skips these pairings and prints the reason; every other pairing runs the case.
 */
import type { InteropCaseName } from "../../interop/case-names.js";

const noServerCompression =
  "a @grpc/grpc-js server never compresses a response: server-interceptors.js serializeMessage always writes compressed flag 0 " +
  "(\"response compression is currently not supported\"), so response_compressed cannot be honoured";
const noRequestFlagOnServer =
  "a @grpc/grpc-js server cannot tell whether a request message arrived compressed: server-interceptors.js decompresses it before " +
  "the handler sees it and removes grpc-encoding from the handler's metadata, so expect_compressed (CompressedRequest) cannot be checked";
const noResponseFlagOnClient =
  "a @grpc/grpc-js client cannot see whether a response message arrived compressed: compression-filter.js receiveMessage reads " +
  "the flag and passes on only the decompressed bytes, so the compressed-flag assertions cannot be made";

/** Cases a @grpc/grpc-js server cannot serve as the descriptions require. */
export const grpcJsServerCannotRun = {
  client_compressed_unary: noRequestFlagOnServer,
  client_compressed_streaming: noRequestFlagOnServer,
  server_compressed_unary: noServerCompression,
  server_compressed_streaming: noServerCompression,
} as const satisfies Partial<Record<InteropCaseName, string>>;

/** Cases a @grpc/grpc-js client cannot assert as the descriptions require. */
export const grpcJsClientCannotRun = {
  server_compressed_unary: noResponseFlagOnClient,
  server_compressed_streaming: noResponseFlagOnClient,
} as const satisfies Partial<Record<InteropCaseName, string>>;

/** The cases the @grpc/grpc-js client runs. */
export type GrpcJsClientCase = Exclude<InteropCaseName, keyof typeof grpcJsClientCannotRun>;

export function isGrpcJsClientCase(name: InteropCaseName): name is GrpcJsClientCase {
  return !Object.hasOwn(grpcJsClientCannotRun, name);
}

/** Why grpc-js cannot run `name` on the given side, or undefined when it can. */
export function grpcJsCannotRun(side: "client" | "server", name: InteropCaseName): string | undefined {
  const limits: Partial<Record<InteropCaseName, string>> = side === "client" ? grpcJsClientCannotRun : grpcJsServerCannotRun;
  return limits[name];
}
