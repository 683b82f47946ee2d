/**
 * A small HTTP CONNECT proxy for tests, on node:net at 127.0.0.1: it answers each
 * CONNECT with 200 and then relays bytes both ways. It counts tunnels, records what
 * was asked of it, can require Basic credentials (407 otherwise), refuse every request
 * with a fixed status, or hang up. It never looks inside a tunnel.
 */
import * as net from "node:net";

export interface ConnectProxyOptions {
  /** Require `Proxy-Authorization: Basic base64(user:password)`; 407 otherwise. */
  auth?: { user: string; password: string };
  /** Answer every CONNECT with this status (e.g. 403) instead of opening a tunnel. */
  refuseWith?: number;
  /** Close the connection after reading the CONNECT request, without answering. */
  hangUp?: boolean;
  /** Names only the proxy can resolve, to addresses: proves the client never resolves the target. */
  hosts?: Readonly<Record<string, string>>;
  /**
   * Send the 200 together with the server's first bytes in one write (waiting up to
   * 200 ms for them), as a proxy may: the client must keep the bytes that follow the
   * answer's headers.
   */
  coalesceFirstBytes?: boolean;
}

export interface ConnectRequest {
  /** The request target, "host:port". */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ConnectProxy {
  /** "http://127.0.0.1:<port>" */
  readonly url: string;
  readonly port: number;
  /** Every CONNECT request received, answered or not. */
  readonly requests: readonly ConnectRequest[];
  /** Tunnels opened (answered 2xx). */
  readonly tunnels: number;
  close(): Promise<void>;
}

const maxHeadBytes = 16 * 1024;

export async function startConnectProxy(options: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const requests: ConnectRequest[] = [];
  const sockets = new Set<net.Socket>();
  let tunnels = 0;
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };

  const answer = (client: net.Socket, status: number, reason: string, extra = "") => {
    client.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
  };

  const openTunnel = (client: net.Socket, target: string, early: Buffer) => {
    const colon = target.lastIndexOf(":");
    const name = target.slice(0, colon).replace(/^\[|\]$/g, "");
    const host = options.hosts?.[name] ?? name;
    const port = Number(target.slice(colon + 1));
    const upstream = net.connect({ host, port });
    track(upstream);
    upstream.once("error", () => {
      if (!client.destroyed) answer(client, 502, "Bad Gateway");
    });
    upstream.once("connect", () => {
      tunnels++;
      const established = "HTTP/1.1 200 Connection established\r\n\r\n";
      const relay = () => {
        if (early.length > 0) upstream.write(early);
        client.pipe(upstream);
        upstream.pipe(client);
        client.once("close", () => upstream.destroy());
        upstream.once("close", () => client.destroy());
      };
      if (!options.coalesceFirstBytes) {
        client.write(established);
        return relay();
      }
      let sent = false;
      const send = (first: Buffer) => {
        if (sent) return;
        sent = true;
        clearTimeout(timer);
        upstream.removeListener("data", onFirst);
        upstream.pause();
        client.write(Buffer.concat([Buffer.from(established, "latin1"), first]));
        relay();
      };
      const onFirst = (chunk: Buffer) => send(chunk);
      const timer = setTimeout(() => send(Buffer.alloc(0)), 200);
      upstream.on("data", onFirst);
    });
  };

  const server = net.createServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        if (head.length > maxHeadBytes) client.destroy();
        return;
      }
      client.removeListener("data", onData);
      client.pause();
      const [requestLine = "", ...headerLines] = head.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const [method, target = ""] = requestLine.split(" ");
      requests.push({ target, headers });
      if (method !== "CONNECT" || !/^.+:\d+$/.test(target)) return answer(client, 405, "Method Not Allowed");
      if (options.hangUp === true) return client.destroy();
      if (options.refuseWith !== undefined) return answer(client, options.refuseWith, "Refused");
      if (options.auth !== undefined) {
        const expected = `Basic ${Buffer.from(`${options.auth.user}:${options.auth.password}`).toString("base64")}`;
        if (headers["proxy-authorization"] !== expected) {
          return answer(client, 407, "Proxy Authentication Required", 'Proxy-Authenticate: Basic realm="grpc-ts test"\r\n');
        }
      }
      openTunnel(client, target, head.subarray(end + 4));
    };
    client.on("data", onData);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get tunnels() {
      return tunnels;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
