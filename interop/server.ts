/**
 * The grpc-ts interop server: `npm run interop:server -- --port=P [--use_tls]
 * [--tls_cert_file=F --tls_key_file=F]`, the flags of grpc-go's interop server. Serves
 * grpc.testing.TestService on every interface; TLS uses the published interop test
 * certificate unless told otherwise. SIGTERM or SIGINT shut it down.
 * INTEROP_SERVER_FAULT=<fault> makes it answer wrongly on purpose (see test-service.ts).
 */
import { Server, serverCredentials } from "../src/index.js";
import { parseFlagsOrExit } from "./flags.js";
import { TestService } from "./gen/grpc/testing/test_pb.js";
import { listeningLine, serverFlagSpec, serverKeyPair } from "./server-flags.js";
import { createTestService, parseServerFault } from "./test-service.js";

const flags = parseFlagsOrExit(serverFlagSpec, process.argv.slice(2), "npm run interop:server --");
const fault = parseServerFault(process.env.INTEROP_SERVER_FAULT);

const server = new Server();
server.add(TestService, createTestService({ fault }));
const credentials = flags.use_tls ? serverCredentials.tls(serverKeyPair(flags)) : serverCredentials.insecure();
const address = await server.listen(`0.0.0.0:${flags.port}`, credentials);
if (!("port" in address)) throw new Error("expected a TCP listener");
console.log(listeningLine("grpc-ts", address.port, flags.use_tls));
if (fault !== undefined) console.error(`INTEROP_SERVER_FAULT=${fault}: answering wrongly on purpose`);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void server.shutdown({ graceMs: 1000 }).then(() => process.exit(0));
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
