/**
 * Parses the addresses a server listens on: "host:port", "[v6]:port", ":port",
 * "unix:path" and "unix:///abs/path". Port 0 asks the system for a free port.
 */

export type ListenAddress = { host: string; port: number } | { path: string };

export function parseListenAddress(address: string): ListenAddress {
  if (address.startsWith("unix:")) {
    const rest = address.slice("unix:".length);
    const path = rest.startsWith("//") ? rest.slice(2) : rest;
    if (path === "") throw new TypeError(`listen address ${JSON.stringify(address)} has no socket path`);
    return { path };
  }
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  const plain = /^([^:[\]]*):(\d+)$/.exec(address);
  const match = bracketed ?? plain;
  if (match === null) throw new TypeError(`listen address ${JSON.stringify(address)} is not host:port, [ipv6]:port or unix:path`);
  const port = Number(match[2]);
  if (port > 65535) throw new TypeError(`listen address ${JSON.stringify(address)} has a port above 65535`);
  return { host: match[1] === "" ? "0.0.0.0" : match[1]!, port };
}
