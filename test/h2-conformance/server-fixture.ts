/**
 * The server the conformance and attack tests play against: our h2 transport with a
 * small request handler. "/hold" never answers (the stream stays open), "/size/N"
 * answers N bytes of body, anything else answers "ok" once the request ends.
 */
import { listenH2, type H2ServerOptions } from "../../src/transport/h2/server.js";
import type { ServerTransportStream, TransportServer } from "../../src/transport/types.js";

export interface FixtureServer {
  readonly server: TransportServer;
  readonly port: number;
  /** Requests that reached the handler, by path. */
  readonly seen: string[];
  /** Streams the handler saw aborted. */
  readonly aborted: string[];
  close(): Promise<void>;
}

function handle(stream: ServerTransportStream, seen: string[], aborted: string[]): void {
  const path = String(stream.headers[":path"]);
  seen.push(path);
  let received = 0;
  stream.attach({
    onData: (chunk) => (received += chunk.length),
    onEnd: () => {
      if (path === "/hold") return;
      const size = path.startsWith("/size/") ? Number(path.slice(6)) : 2;
      stream.sendHeaders({ ":status": "200", "content-type": "application/grpc" });
      const body = new Uint8Array(size).fill(0x6f);
      let offset = 0;
      const pump = () => {
        while (offset < body.length) {
          const end = Math.min(body.length, offset + 64 * 1024);
          const ok = stream.write(body.subarray(offset, end));
          offset = end;
          if (!ok) return;
        }
        stream.sendTrailers({ "grpc-status": "0", "x-received": String(received) });
      };
      sinkDrain = pump;
      pump();
    },
    onAbort: () => aborted.push(path),
    onDrain: () => sinkDrain(),
  });
  let sinkDrain: () => void = () => undefined;
}

export async function startFixtureServer(options: H2ServerOptions = {}): Promise<FixtureServer> {
  const seen: string[] = [];
  const aborted: string[] = [];
  const server = await listenH2({ host: "127.0.0.1", port: 0 }, options, (stream) => handle(stream, seen, aborted));
  return {
    server,
    port: (server.address as { port: number }).port,
    seen,
    aborted,
    close: async () => {
      server.destroy();
      await server.closed();
    },
  };
}
