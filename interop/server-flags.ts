/**
 * The interop server's flags, shared by every interop server here (ours and the
 * @grpc/grpc-js harness), with grpc-go's names and defaults.
 */
import { readFileSync } from "node:fs";
import type { FlagValues } from "./flags.js";
import { testServerCertPath, testServerKeyPath } from "./testdata.js";

export const serverFlagSpec = {
  port: { kind: "int", default: 10000, help: "the port to listen on (0 picks a free one)" },
  use_tls: { kind: "bool", default: false, help: "serve TLS (ALPN h2) instead of cleartext HTTP/2" },
  tls_cert_file: { kind: "string", default: "", help: "certificate chain PEM for TLS; empty: the interop test server1.pem" },
  tls_key_file: { kind: "string", default: "", help: "private key PEM for TLS; empty: the interop test server1.key" },
} as const;

export type ServerFlags = FlagValues<typeof serverFlagSpec>;

/** The certificate and key to serve TLS with: the given files, else the interop test ones. */
export function serverKeyPair(flags: ServerFlags): { cert: Buffer; key: Buffer } {
  return {
    cert: readFileSync(flags.tls_cert_file === "" ? testServerCertPath : flags.tls_cert_file),
    key: readFileSync(flags.tls_key_file === "" ? testServerKeyPath : flags.tls_key_file),
  };
}

/** The line a server prints once it listens; the runner reads the port from it. */
export function listeningLine(implementation: string, port: number, tls: boolean): string {
  return `${implementation} interop server listening on port ${port} (${tls ? "TLS" : "plaintext"})`;
}

/** Reads the port back from a listeningLine. */
export function parseListeningLine(line: string): number | undefined {
  const match = / interop server listening on port (\d+) /.exec(line);
  return match === null ? undefined : Number(match[1]);
}
