/**
 * A resolver whose addresses (and service config) the application sets, and may
 * change at any time: for tests, and for discovery systems that push updates.
 * `createManualResolver()` registers it under its own scheme: `${resolver.scheme}:///any`.
 */
import type { ServiceConfig } from "../config/service-config.js";
import { registerResolver, type Address, type ResolverListener } from "./resolver.js";

export interface ManualResolver {
  /** The scheme to use in targets: `${scheme}:///name`. */
  readonly scheme: string;
  /** Sets the addresses every channel on this scheme uses, now and until the next update. */
  update(addresses: readonly Address[], serviceConfig?: ServiceConfig): void;
  /** Makes resolution fail (channels go TRANSIENT_FAILURE) until the next update. */
  fail(error: Error): void;
  /** How many times channels asked to re-resolve. */
  readonly resolveNowCount: number;
}

let counter = 0;

export function createManualResolver(initial?: readonly Address[]): ManualResolver {
  const scheme = `manual-${++counter}`;
  const listeners = new Set<ResolverListener>();
  let current: { addresses: readonly Address[]; serviceConfig?: ServiceConfig } | Error | undefined =
    initial === undefined ? undefined : { addresses: initial };
  let resolveNowCount = 0;
  const deliver = (listener: ResolverListener) => {
    if (current === undefined) return;
    if (current instanceof Error) listener.onError(current);
    else listener.onResult(current);
  };
  registerResolver({
    scheme,
    defaultAuthority: (target) => target.endpoint || "localhost",
    create(_target, listener) {
      listeners.add(listener);
      queueMicrotask(() => {
        if (listeners.has(listener)) deliver(listener);
      });
      return {
        resolveNow() {
          resolveNowCount++;
        },
        close() {
          listeners.delete(listener);
        },
      };
    },
  });
  return {
    scheme,
    get resolveNowCount() {
      return resolveNowCount;
    },
    update(addresses, serviceConfig) {
      current = { addresses, serviceConfig };
      for (const l of listeners) deliver(l);
    },
    fail(error) {
      current = error;
      for (const l of listeners) deliver(l);
    },
  };
}
