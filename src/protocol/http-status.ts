/**
 * HTTP status → gRPC code, for responses that carry no grpc-status
 * (grpc/grpc doc/http-grpc-status-mapping.md). Client side only. Pure.
 */
import { Code } from "./status.js";

export function codeFromHttpStatus(httpStatus: number): Code {
  switch (httpStatus) {
    case 400: return Code.INTERNAL;
    case 401: return Code.UNAUTHENTICATED;
    case 403: return Code.PERMISSION_DENIED;
    case 404: return Code.UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504: return Code.UNAVAILABLE;
    default: return Code.UNKNOWN;
  }
}
