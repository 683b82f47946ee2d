/**
 * Test-only: the schemas the encoder and decoder tests run over (the project's own
 * .proto files, the well-known types, descriptor.proto and the proto2 / proto3 /
 * editions test files), a fixed seed per schema, and byte comparison that reports hex.
 */
import assert from "node:assert/strict";
import type { DescExtension, DescFile, DescMessage } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import {
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_compiler_plugin,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_source_context,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
} from "@bufbuild/protobuf/wkt";
import { file_bench } from "../../../../bench/gen/bench_pb.js";
import { file_grpc_testing_empty } from "../../../../interop/gen/grpc/testing/empty_pb.js";
import { file_grpc_testing_messages } from "../../../../interop/gen/grpc/testing/messages_pb.js";
import { file_grpc_testing_test } from "../../../../interop/gen/grpc/testing/test_pb.js";
import { file_google_rpc_error_details } from "../../../gen/google/rpc/error_details_pb.js";
import { file_google_rpc_status } from "../../../gen/google/rpc/status_pb.js";
import { file_grpc_health_v1_health } from "../../../gen/grpc/health/v1/health_pb.js";
import { file_grpc_reflection_v1_reflection } from "../../../gen/grpc/reflection/v1/reflection_pb.js";
import { file_grpc_reflection_v1alpha_reflection } from "../../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_grpcts_encoder_test_editions } from "./gen/grpcts/encoder/test/editions_pb.js";
import { file_grpcts_encoder_test_proto2 } from "./gen/grpcts/encoder/test/proto2_pb.js";
import { file_grpcts_encoder_test_proto3 } from "./gen/grpcts/encoder/test/proto3_pb.js";

/** The files themselves. */
export const corpusFiles: readonly DescFile[] = [
  file_bench,
  file_grpc_testing_empty,
  file_grpc_testing_messages,
  file_grpc_testing_test,
  file_google_rpc_status,
  file_google_rpc_error_details,
  file_grpc_health_v1_health,
  file_grpc_reflection_v1_reflection,
  file_grpc_reflection_v1alpha_reflection,
  file_google_protobuf_any,
  file_google_protobuf_api,
  file_google_protobuf_compiler_plugin,
  file_google_protobuf_descriptor,
  file_google_protobuf_duration,
  file_google_protobuf_empty,
  file_google_protobuf_field_mask,
  file_google_protobuf_source_context,
  file_google_protobuf_struct,
  file_google_protobuf_timestamp,
  file_google_protobuf_type,
  file_google_protobuf_wrappers,
  file_grpcts_encoder_test_proto2,
  file_grpcts_encoder_test_proto3,
  file_grpcts_encoder_test_editions,
];

/** Every message type of those files, nested ones included. */
export const corpusSchemas: readonly DescMessage[] = corpusFiles.flatMap((file) =>
  [...nestedTypes(file)].filter((d): d is DescMessage => d.kind === "message"),
);

/** Every extension those files declare. */
export const corpusExtensions: readonly DescExtension[] = corpusFiles.flatMap((file) =>
  [...nestedTypes(file)].filter((d): d is DescExtension => d.kind === "extension"),
);

/** Seed from the type name, so each schema gets its own fixed sequence. */
export function seedOf(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Byte-for-byte equality, reported as hex around the first difference
 *  (assert.deepEqual on typed arrays is slow and its report unreadable here). */
export function assertSameBytes(got: Uint8Array, want: Uint8Array, context: string): void {
  if (got.length === want.length && got.every((b, i) => b === want[i])) return;
  let at = 0;
  while (at < got.length && got[at] === want[at]) at++;
  const around = (bytes: Uint8Array) => hex(bytes.subarray(Math.max(0, at - 16), at + 16));
  assert.fail(
    `${context}: ${got.length} bytes, want ${want.length}; first difference at ${at}: ` +
      `got …${around(got)}…, want …${around(want)}…`,
  );
}
