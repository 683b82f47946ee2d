import assert from "node:assert/strict";
import { test } from "node:test";
import { codeFromHttpStatus } from "./http-status.js";
import { Code } from "./status.js";

// grpc/grpc doc/http-grpc-status-mapping.md, row by row, then codes the table leaves to
// "other": 200 (a gRPC response without grpc-status) and 431, which grpc-go and Envoy map
// to UNKNOWN.
const cases: [httpStatus: number, want: Code][] = [
  [400, Code.INTERNAL],
  [401, Code.UNAUTHENTICATED],
  [403, Code.PERMISSION_DENIED],
  [404, Code.UNIMPLEMENTED],
  [429, Code.UNAVAILABLE],
  [502, Code.UNAVAILABLE],
  [503, Code.UNAVAILABLE],
  [504, Code.UNAVAILABLE],
  [200, Code.UNKNOWN],
  [431, Code.UNKNOWN],
  [100, Code.UNKNOWN],
  [204, Code.UNKNOWN],
  [302, Code.UNKNOWN],
  [405, Code.UNKNOWN],
  [415, Code.UNKNOWN],
  [500, Code.UNKNOWN],
  [501, Code.UNKNOWN],
  [505, Code.UNKNOWN],
  [0, Code.UNKNOWN],
  [999, Code.UNKNOWN],
];

for (const [httpStatus, want] of cases) {
  test(`HTTP ${httpStatus} without grpc-status maps to ${Code[want]}`, () => {
    assert.equal(codeFromHttpStatus(httpStatus), want);
  });
}
