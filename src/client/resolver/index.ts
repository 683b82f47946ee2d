/** The resolver registry with the built-in schemes registered: dns, ipv4, ipv6, unix, unix-abstract. */
import { dnsResolver } from "./dns.js";
import { registerResolver } from "./resolver.js";
import { ipv4Resolver, ipv6Resolver, unixAbstractResolver, unixResolver } from "./static.js";

for (const factory of [dnsResolver, ipv4Resolver, ipv6Resolver, unixResolver, unixAbstractResolver]) registerResolver(factory);

export { addressKey, getResolverFactory, parseTargetUri, registerResolver, splitHostPort } from "./resolver.js";
export type { Address, Resolver, ResolverFactory, ResolverListener, ResolverOptions, ResolverResult, TargetUri } from "./resolver.js";
export { createManualResolver, type ManualResolver } from "./manual.js";
export { defaultMinResolutionIntervalMs } from "./dns.js";
