/**
 * Connectivity states of channels and subchannels
 * (grpc/grpc doc/connectivity-semantics-and-api.md), with the spec's spelling.
 */
export type ConnectivityState = "IDLE" | "CONNECTING" | "READY" | "TRANSIENT_FAILURE" | "SHUTDOWN";
