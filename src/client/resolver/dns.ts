/**
 * The dns resolver: every A and AAAA record of the host (through the system's
 * getaddrinfo, so /etc/hosts counts), re-resolved only when the channel asks — a lost
 * connection or a GOAWAY — and at most once per minimum interval (30 s by default).
 * No periodic polling.
 */
import { lookup } from "node:dns/promises";
import * as net from "node:net";
import { splitHostPort } from "../target.js";
import type { Address, Resolver, ResolverFactory, ResolverListener, TargetUri } from "./resolver.js";

export const defaultMinResolutionIntervalMs = 30_000;

class DnsResolver implements Resolver {
  private closed = false;
  private resolving = false;
  private lastStart = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly listener: ResolverListener,
    private readonly minIntervalMs: number,
  ) {
    queueMicrotask(() => this.resolveNow());
  }

  resolveNow(): void {
    if (this.closed || this.resolving || this.timer !== undefined) return;
    const wait = this.lastStart + this.minIntervalMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.resolveNow();
      }, wait);
      this.timer.unref?.();
      return;
    }
    this.lastStart = Date.now();
    this.resolving = true;
    void this.resolve();
  }

  private async resolve(): Promise<void> {
    try {
      let addresses: Address[];
      if (net.isIP(this.host) !== 0) {
        addresses = [{ host: this.host, port: this.port }];
      } else {
        const records = await lookup(this.host, { all: true, verbatim: true });
        addresses = records.map((r) => ({ host: r.address, port: this.port }));
      }
      if (this.closed) return;
      if (addresses.length === 0) this.listener.onError(new Error(`dns: ${this.host} has no addresses`));
      else this.listener.onResult({ addresses });
    } catch (err) {
      if (!this.closed) this.listener.onError(new Error(`dns: cannot resolve ${this.host}: ${(err as Error).message}`, { cause: err }));
    } finally {
      this.resolving = false;
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export const dnsResolver: ResolverFactory = {
  scheme: "dns",
  defaultAuthority(target: TargetUri) {
    return target.endpoint;
  },
  create(target, listener, options) {
    if (target.endpoint === "") throw new TypeError("dns: the target names no host");
    const { host, port } = splitHostPort(target.endpoint, `dns:${target.endpoint}`);
    return new DnsResolver(host, port, listener, options.minResolutionIntervalMs ?? defaultMinResolutionIntervalMs);
  },
};
