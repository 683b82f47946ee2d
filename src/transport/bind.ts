/**
 * Binding a listening socket, the same for every server transport: a TCP host and port
 * (port 0 picks a free one) or a unix socket path, resolved with the bound address.
 * Bind errors (EADDRINUSE…) reject; later server errors are left to the caller.
 */
import type { Server } from "node:net";

export type ListenTarget = { host: string; port: number } | { path: string };
export type BoundAddress = { host: string; port: number } | { path: string };

export function bindServer(server: Server, target: ListenTarget): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    const onListening = () => {
      server.off("error", reject);
      const addr = server.address();
      resolve(typeof addr === "string" || addr === null
        ? { path: "path" in target ? target.path : String(addr) }
        : { host: addr.address, port: addr.port });
    };
    if ("path" in target) server.listen(target.path, onListening);
    else server.listen(target.port, target.host, onListening);
  });
}
