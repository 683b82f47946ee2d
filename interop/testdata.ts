/**
 * Where the interop test credentials live (testdata/README.md: gRPC's published,
 * test-only ca.pem, server1.pem and server1.key) and the name server1.pem is valid for.
 */
import { fileURLToPath } from "node:url";

export const testCaPath = fileURLToPath(new URL("./testdata/ca.pem", import.meta.url));
export const testServerCertPath = fileURLToPath(new URL("./testdata/server1.pem", import.meta.url));
export const testServerKeyPath = fileURLToPath(new URL("./testdata/server1.key", import.meta.url));

/** The --server_host_override interop clients use with server1.pem (a *.test.google.fr name). */
export const testServerHostOverride = "foo.test.google.fr";
