/**
 * Resolvers whose answer is in the target itself: ipv4:a:p[,b:p], ipv6:[a]:p[,…],
 * unix:path, unix:///abs/path and unix-abstract:name. They answer once.
 */
import * as net from "node:net";
import { splitHostPort } from "../target.js";
import type { Address, ResolverFactory, ResolverListener, TargetUri } from "./resolver.js";

function answerOnce(listener: ResolverListener, compute: () => Address[]) {
  let closed = false;
  queueMicrotask(() => {
    if (closed) return;
    try {
      listener.onResult({ addresses: compute() });
    } catch (err) {
      listener.onError(err as Error);
    }
  });
  return { resolveNow() {}, close() { closed = true; } };
}

function ipFactory(scheme: "ipv4" | "ipv6"): ResolverFactory {
  const check = scheme === "ipv4" ? net.isIPv4 : net.isIPv6;
  const parse = (target: TargetUri): Address[] =>
    target.endpoint.split(",").map((part) => {
      const address = splitHostPort(part.trim(), `${scheme}:${target.endpoint}`);
      if (!check(address.host)) throw new TypeError(`${scheme}: ${JSON.stringify(part)} is not an ${scheme} address`);
      return address;
    });
  return {
    scheme,
    defaultAuthority(target) {
      const first = target.endpoint.split(",")[0]!.trim();
      return first;
    },
    create(target, listener) {
      return answerOnce(listener, () => parse(target));
    },
  };
}

export const ipv4Resolver = ipFactory("ipv4");
export const ipv6Resolver = ipFactory("ipv6");

export const unixResolver: ResolverFactory = {
  scheme: "unix",
  defaultAuthority: () => "localhost",
  create(target, listener) {
    return answerOnce(listener, () => {
      if (target.endpoint === "") throw new TypeError("unix: the target names no socket path");
      return [{ path: target.endpoint }];
    });
  },
};

export const unixAbstractResolver: ResolverFactory = {
  scheme: "unix-abstract",
  defaultAuthority: () => "localhost",
  create(target, listener) {
    // Linux abstract sockets: a path starting with a NUL byte.
    return answerOnce(listener, () => [{ path: `\0${target.endpoint}` }]);
  },
};
