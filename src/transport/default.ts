/**
 * Which HTTP/2 implementation servers and channels use when their options name none:
 * our own ("h2") unless the GRPC_TS_TRANSPORT environment variable says "node-http2"
 * (an escape hatch, and how the test suite runs everything on both).
 */
// Both transports' messages are encoded into slabs from this allocator.
import "./node-alloc.js";

export type TransportName = "h2" | "node-http2";

export function defaultTransport(): TransportName {
  return process.env.GRPC_TS_TRANSPORT === "node-http2" ? "node-http2" : "h2";
}
