/**
 * Name resolution (grpc/grpc doc/naming.md): a resolver turns a target into addresses
 * (and maybe a service config) and keeps the channel told when they change. Resolvers
 * are found by URI scheme in a registry users can add to (a service registry,
 * Kubernetes endpoints…).
 */
import type { ServiceConfig, ServiceConfigError } from "../config/service-config.js";

export { splitHostPort } from "../target.js";

/** One backend address: TCP host and port, or a unix socket path. */
export type Address = { readonly host: string; readonly port: number } | { readonly path: string };

export function addressKey(address: Address): string {
  if ("path" in address) return `unix:${address.path}`;
  return address.host.includes(":") ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

export interface ResolverResult {
  readonly addresses: readonly Address[];
  /** A service config delivered with the addresses, or the error that made it unusable. */
  readonly serviceConfig?: ServiceConfig | ServiceConfigError;
}

export interface ResolverListener {
  onResult(result: ResolverResult): void;
  /** Resolution failed (e.g. the name does not exist); the channel goes TRANSIENT_FAILURE. */
  onError(error: Error): void;
}

export interface Resolver {
  /** Resolve again soon (a connection was lost, or a GOAWAY arrived); may be rate-limited. */
  resolveNow(): void;
  close(): void;
}

/** A parsed target URI: `scheme:[//authority/]endpoint`. */
export interface TargetUri {
  readonly scheme: string;
  readonly authority: string;
  /** What follows the scheme (and authority): "host:port", "a:p,b:p", "/path"… */
  readonly endpoint: string;
}

export interface ResolverOptions {
  /** The port when the target names none. */
  readonly defaultPort: number;
  /** Minimum time between two resolutions (DNS: 30 s by default). */
  readonly minResolutionIntervalMs?: number;
}

export interface ResolverFactory {
  readonly scheme: string;
  /** The :authority for calls on a channel to `target`. */
  defaultAuthority(target: TargetUri): string;
  /** Starts resolving; the first result (or error) reaches `listener` asynchronously. */
  create(target: TargetUri, listener: ResolverListener, options: ResolverOptions): Resolver;
}

const registry = new Map<string, ResolverFactory>();

/** Adds (or replaces) the resolver for a URI scheme. */
export function registerResolver(factory: ResolverFactory): void {
  registry.set(factory.scheme, factory);
}

export function getResolverFactory(scheme: string): ResolverFactory | undefined {
  return registry.get(scheme);
}

/**
 * Splits a target into scheme, authority and endpoint. A target whose scheme no
 * resolver handles is read as a dns name ("localhost:50051" → dns:///localhost:50051).
 */
export function parseTargetUri(target: string): TargetUri {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/s.exec(target);
  if (match !== null && registry.has(match[1]!.toLowerCase())) {
    const scheme = match[1]!.toLowerCase();
    let rest = match[2]!;
    let authority = "";
    if (rest.startsWith("//")) {
      const slash = rest.indexOf("/", 2);
      authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
      rest = slash < 0 ? "" : rest.slice(slash + 1);
      // unix:///abs/path keeps its leading slash.
      if (scheme === "unix") rest = `/${rest}`;
    }
    return { scheme, authority, endpoint: rest };
  }
  return { scheme: "dns", authority: "", endpoint: target };
}
