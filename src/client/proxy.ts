/**
 * HTTP CONNECT proxies (gRFC A1), applied as @grpc/grpc-js applies them: which proxy a
 * channel uses (its `httpProxy` option, else grpc_proxy / https_proxy / http_proxy
 * minus no_proxy), the CONNECT handshake that turns a TCP connection to the proxy into
 * a tunnel to the target, and a transport that speaks HTTP/2 (and TLS) inside it.
 * The proxy sees only the tunnel: on TLS channels the handshake runs end to end.
 */
import * as net from "node:net";
import type { ParsedTarget } from "./target.js";
import type { ClientTransport, ClientStreamSink, ClientTransportStream, Headers, PeerInfo } from "../transport/types.js";

/** An HTTP proxy to tunnel through. */
export interface HttpProxy {
  /** The proxy's host name or address, resolved by the channel as a dns target. */
  readonly host: string;
  readonly port: number;
  /** "user:password" (or "user") for `Proxy-Authorization: Basic`; absent without credentials. */
  readonly userinfo?: string;
}

/** Where a proxied channel's connections go: the proxy, and the target named in CONNECT. */
export interface ProxyRoute {
  readonly proxy: HttpProxy;
  readonly target: { readonly host: string; readonly port: number };
}

/**
 * Parses `http://[user:pass@]host[:port]` (the scheme may be left out; the port
 * defaults to 80). Throws a TypeError for anything else: CONNECT proxies reached over
 * TLS (https://) are not supported, as in grpc-js.
 */
export function parseProxyUrl(text: string): HttpProxy {
  const withScheme = text.includes("://") ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new TypeError(`proxy ${JSON.stringify(text)} is not a URL`);
  }
  if (url.protocol !== "http:") throw new TypeError(`proxy ${JSON.stringify(text)}: only http:// proxies are supported`);
  if (url.hostname === "") throw new TypeError(`proxy ${JSON.stringify(text)} names no host`);
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === "" ? 80 : Number(url.port);
  if (url.username === "") return { host, port };
  const user = decodeURIComponent(url.username);
  const userinfo = url.password === "" ? user : `${user}:${decodeURIComponent(url.password)}`;
  return { host, port, userinfo };
}

type Environment = Readonly<Record<string, string | undefined>>;

/** The first variable of `names` that is set and not empty, each name tried lower-case first. */
function firstSet(env: Environment, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    for (const variant of [name, name.toUpperCase()]) {
      const value = env[variant];
      if (value !== undefined && value.trim() !== "") return { name: variant, value: value.trim() };
    }
  }
  return undefined;
}

/**
 * The proxy the environment names: grpc_proxy, then https_proxy, then http_proxy (each
 * also upper-case). A value that does not parse is ignored, as grpc-js ignores it.
 */
export function proxyFromEnvironment(env: Environment = process.env): HttpProxy | undefined {
  const found = firstSet(env, ["grpc_proxy", "https_proxy", "http_proxy"]);
  if (found === undefined) return undefined;
  try {
    return parseProxyUrl(found.value);
  } catch {
    return undefined;
  }
}

/** The hosts the environment exempts from the proxy: no_grpc_proxy (as grpc-js), else no_proxy. */
export function noProxyFromEnvironment(env: Environment = process.env): string {
  return firstSet(env, ["no_grpc_proxy", "no_proxy"])?.value ?? "";
}

/**
 * Whether `host` is exempt by a no_proxy list: comma-separated entries, each "*" (every
 * host), an exact host or IP, a domain that also covers its subdomains ("example.com",
 * ".example.com", "*.example.com"), or an IPv4 CIDR range ("10.0.0.0/8").
 */
export function isNoProxyHost(host: string, noProxy: string): boolean {
  const name = stripBrackets(host.toLowerCase()).replace(/\.$/, "");
  for (const raw of noProxy.split(",")) {
    let entry = stripBrackets(raw.trim().toLowerCase());
    if (entry === "") continue;
    if (entry === "*") return true;
    if (entry.includes("/")) {
      if (net.isIPv4(name) && inIpv4Cidr(name, entry)) return true;
      continue;
    }
    if (entry.startsWith("*.")) entry = entry.slice(1);
    if (entry.startsWith(".")) entry = entry.slice(1);
    if (name === entry || (net.isIP(name) === 0 && name.endsWith(`.${entry}`))) return true;
  }
  return false;
}

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

function inIpv4Cidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  if (base === undefined || !net.isIPv4(base) || !/^\d+$/.test(bitsText ?? "") || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return ((ipv4ToInt(ip) & mask) >>> 0) === ((ipv4ToInt(base) & mask) >>> 0);
}

function ipv4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}

/**
 * The proxy for a channel to `targetHost`. `option` is the channel's `httpProxy`:
 * false means none whatever the environment says; a URL means that proxy for this
 * channel (no_proxy does not apply to it); undefined means the environment decides.
 * Throws a TypeError when `option` is not a usable proxy URL.
 */
export function selectProxy(targetHost: string, option: string | false | undefined, env: Environment = process.env): HttpProxy | undefined {
  if (option === false) return undefined;
  if (option !== undefined) return parseProxyUrl(option);
  const proxy = proxyFromEnvironment(env);
  if (proxy === undefined || isNoProxyHost(targetHost, noProxyFromEnvironment(env))) return undefined;
  return proxy;
}

/** The route of a channel to a dns target through a proxy, or undefined when it connects directly. */
export function proxyRouteFor(target: ParsedTarget, option: string | false | undefined, env: Environment = process.env): ProxyRoute | undefined {
  const address = target.scheme === "dns" ? target.addresses[0] : undefined;
  if (address === undefined || !("host" in address)) return undefined;
  const proxy = selectProxy(address.host, option, env);
  return proxy === undefined ? undefined : { proxy, target: address };
}

export function formatHostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Bytes of CONNECT response headers accepted before the proxy is deemed broken. */
const maxResponseHeadBytes = 16 * 1024;

/**
 * Connects to the proxy at `proxyAddress`, sends `CONNECT <target> HTTP/1.1` and
 * resolves with the socket once the proxy answers 2xx: from then on it carries the
 * target's bytes (any the proxy sent along with its answer are pushed back into it).
 * Rejects on any other answer, on a socket error or close, and when `signal` aborts;
 * the socket is then destroyed.
 */
export function openHttpConnectTunnel(
  proxyAddress: { host: string; port: number } | { path: string },
  target: { host: string; port: number },
  userinfo: string | undefined,
  signal: AbortSignal,
): Promise<net.Socket> {
  const authority = formatHostPort(target.host, target.port);
  const proxyName = "path" in proxyAddress ? `unix:${proxyAddress.path}` : formatHostPort(proxyAddress.host, proxyAddress.port);
  return new Promise((resolve, reject) => {
    const socket = "path" in proxyAddress ? net.connect(proxyAddress.path) : net.connect({ host: proxyAddress.host, port: proxyAddress.port, noDelay: true });
    let received = Buffer.alloc(0);
    const finish = (error: Error | undefined) => {
      socket.removeListener("connect", onConnect);
      socket.removeListener("readable", onReadable);
      socket.removeListener("error", onError);
      socket.removeListener("close", onClose);
      signal.removeEventListener("abort", onAbort);
      if (error === undefined) return resolve(socket);
      socket.destroy();
      reject(error);
    };
    const onConnect = () => {
      const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
      if (userinfo !== undefined) lines.push(`Proxy-Authorization: Basic ${Buffer.from(userinfo).toString("base64")}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    };
    // 'readable' rather than 'data': once it is removed the socket is neither paused nor
    // flowing, so whoever takes the socket next gets every byte from its first listener.
    const onReadable = () => {
      let chunk: Buffer | null;
      while ((chunk = socket.read() as Buffer | null) !== null) {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf("\r\n\r\n");
        if (end < 0) {
          if (received.length > maxResponseHeadBytes) return finish(new Error(`proxy ${proxyName}: CONNECT response headers exceed ${maxResponseHeadBytes} bytes`));
          continue;
        }
        const statusLine = received.subarray(0, received.indexOf("\r\n")).toString("latin1");
        const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
        if (match === null) return finish(new Error(`proxy ${proxyName}: malformed CONNECT response ${JSON.stringify(statusLine)}`));
        const status = Number(match[1]);
        if (status < 200 || status > 299) {
          return finish(new Error(`proxy ${proxyName} refused CONNECT ${authority}: ${status} ${match[2] ?? ""}`.trimEnd()));
        }
        // Bytes past the answer are the server's (an h2c server's SETTINGS may come along).
        // On TLS channels there are none: a TLS server never speaks first.
        const rest = received.subarray(end + 4);
        if (rest.length > 0) socket.unshift(rest);
        return finish(undefined);
      }
    };
    const onError = (err: Error) => finish(new Error(`proxy ${proxyName}: ${err.message}`, { cause: err }));
    const onClose = () => finish(new Error(`proxy ${proxyName} closed the connection before answering CONNECT ${authority}`));
    const onAbort = () => finish(new Error(`CONNECT ${authority} through proxy ${proxyName} aborted`));
    socket.once("connect", onConnect);
    socket.on("readable", onReadable);
    socket.once("error", onError);
    socket.once("close", onClose);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The transport callbacks a tunnel failure is reported through. */
export interface TunnelHandlers {
  onClose(error: Error | undefined): void;
}

/**
 * A client transport through an HTTP CONNECT tunnel: it opens the tunnel, then hands
 * the socket to `open`, which builds the real transport over it (HTTP/2, with TLS on
 * top for secure channels). Until then it is not usable; a failed tunnel is reported
 * once through `handlers.onClose`, a failed connection attempt like any other.
 */
export class HttpConnectTransport implements ClientTransport {
  private inner: ClientTransport | undefined;
  private readonly abort = new AbortController();

  constructor(
    proxyAddress: { host: string; port: number } | { path: string },
    route: ProxyRoute,
    private readonly handlers: TunnelHandlers,
    open: (socket: net.Socket) => ClientTransport,
  ) {
    openHttpConnectTunnel(proxyAddress, route.target, route.proxy.userinfo, this.abort.signal).then(
      (socket) => {
        if (this.abort.signal.aborted) {
          socket.destroy();
          return;
        }
        try {
          this.inner = open(socket);
        } catch (err) {
          // E.g. TLS options node refuses: a failed attempt, as for a direct connection.
          socket.destroy();
          this.handlers.onClose(err instanceof Error ? err : new Error(String(err)));
        }
      },
      (error: Error) => this.handlers.onClose(error),
    );
  }

  get usable(): boolean {
    return this.inner?.usable ?? false;
  }

  get peer(): PeerInfo | undefined {
    return this.inner?.peer;
  }

  request(headers: Headers, sink: ClientStreamSink): ClientTransportStream {
    // The subchannel offers a transport to calls only after onConnect, i.e. with `inner` set.
    if (this.inner === undefined) throw new Error("the proxy tunnel is not established yet");
    return this.inner.request(headers, sink);
  }

  close(): void {
    if (this.inner !== undefined) this.inner.close();
    else this.abort.abort();
  }

  destroy(): void {
    if (this.inner !== undefined) this.inner.destroy();
    else this.abort.abort();
  }
}
