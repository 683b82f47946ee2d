/**
 * Parses channel targets (grpc/grpc doc/naming.md): "host:port", "dns:[//authority/]host[:port]",
 * "ipv4:a:p[,b:p]", "ipv6:[a]:p[,…]", "unix:path", "unix:///abs".
 */

export type TargetAddress = { host: string; port: number } | { path: string };

export interface ParsedTarget {
  readonly scheme: "dns" | "ipv4" | "ipv6" | "unix";
  readonly addresses: TargetAddress[];
  /** The default :authority for calls. */
  readonly authority: string;
}

const defaultPort = 443;

/** Splits "host[:port]", "[v6][:port]" or a bare IPv6 address; throws a TypeError naming `target`. */
export function splitHostPort(text: string, target: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed !== null) return { host: bracketed[1]!, port: bracketed[2] === undefined ? defaultPort : checkPort(bracketed[2], target) };
  if (text.startsWith("[")) throw new TypeError(`target ${JSON.stringify(target)} has a malformed [ipv6]:port address`);
  const colon = text.lastIndexOf(":");
  if (colon < 0) return { host: text, port: defaultPort };
  if (text.indexOf(":") !== colon) return { host: text, port: defaultPort }; // bare IPv6 without port
  return { host: text.slice(0, colon), port: checkPort(text.slice(colon + 1), target) };
}

function checkPort(text: string, target: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new TypeError(`target ${JSON.stringify(target)} has an invalid port ${JSON.stringify(text)}`);
  return port;
}

function formatAuthority(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export function parseTarget(target: string): ParsedTarget {
  if (target.startsWith("unix:")) {
    const rest = target.slice(5);
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (path === "") throw new TypeError(`target ${JSON.stringify(target)} has no socket path`);
    return { scheme: "unix", addresses: [{ path }], authority: "localhost" };
  }
  if (target.startsWith("ipv4:") || target.startsWith("ipv6:")) {
    const scheme = target.slice(0, 4) as "ipv4" | "ipv6";
    const addresses = target.slice(5).split(",").map((part) => splitHostPort(part.trim(), target));
    if (addresses.length === 0 || addresses.some((a) => a.host === "")) throw new TypeError(`target ${JSON.stringify(target)} has an empty address`);
    const first = addresses[0]!;
    return { scheme, addresses, authority: formatAuthority(first.host, first.port) };
  }
  let rest = target;
  if (rest.startsWith("dns:")) {
    rest = rest.slice(4);
    if (rest.startsWith("//")) {
      const slash = rest.indexOf("/", 2);
      if (slash < 0) throw new TypeError(`target ${JSON.stringify(target)}: dns://authority must be followed by /host`);
      rest = rest.slice(slash + 1);
    }
  }
  if (rest === "") throw new TypeError(`target ${JSON.stringify(target)} has no host`);
  const address = splitHostPort(rest, target);
  return { scheme: "dns", addresses: [address], authority: formatAuthority(address.host, address.port) };
}
