/**
 * round_robin: a subchannel per address, all kept connected; calls rotate over the
 * READY ones from a random start. The channel is READY if any subchannel is, else
 * CONNECTING if any is, else TRANSIENT_FAILURE. A subchannel that loses its
 * connection reconnects at once, and the resolver is asked for fresh addresses.
 */
import { Code, GrpcError } from "../../protocol/status.js";
import type { ConnectivityState } from "../connectivity.js";
import { addressKey, type Address } from "../resolver/resolver.js";
import type { Subchannel } from "../subchannel.js";
import { failingPicker, queuePicker, type LbHelper, type LbPolicy, type LbPolicyFactory, type Picker, type PickResult } from "./balancer.js";

class RoundRobinPicker implements Picker {
  private next: number;
  private readonly results: PickResult[];

  constructor(ready: readonly Subchannel[]) {
    this.results = ready.map((subchannel) => ({ type: "complete", subchannel }));
    this.next = Math.floor(Math.random() * ready.length);
  }

  pick(): PickResult {
    const result = this.results[this.next]!;
    this.next = (this.next + 1) % this.results.length;
    return result;
  }
}

class RoundRobin implements LbPolicy {
  private subchannels = new Map<string, Subchannel>();
  private readonly listener = (_sc: Subchannel, state: ConnectivityState) => this.onSubchannelState(state);
  private started = false;
  private lastError: Error | undefined;

  constructor(private readonly helper: LbHelper) {}

  updateAddresses(addresses: readonly Address[]): void {
    const next = new Map<string, Subchannel>();
    for (const address of addresses) {
      const key = addressKey(address);
      if (next.has(key)) continue;
      const existing = this.subchannels.get(key);
      if (existing !== undefined) {
        next.set(key, existing);
        this.subchannels.delete(key);
        continue;
      }
      const sc = this.helper.createSubchannel(address);
      sc.addListener(this.listener);
      next.set(key, sc);
    }
    for (const sc of this.subchannels.values()) this.release(sc);
    this.subchannels = next;
    if (this.started) for (const sc of next.values()) sc.requestConnection();
    this.recompute();
  }

  resolverError(error: Error): void {
    this.lastError = error;
    if (this.subchannels.size === 0) this.recompute();
  }

  exitIdle(): void {
    this.started = true;
    for (const sc of this.subchannels.values()) sc.requestConnection();
    this.recompute();
  }

  private onSubchannelState(state: ConnectivityState): void {
    if (state === "IDLE") {
      this.helper.requestReresolution();
      if (this.started) for (const sc of this.subchannels.values()) sc.requestConnection();
    }
    this.recompute();
  }

  private recompute(): void {
    const all = [...this.subchannels.values()];
    const ready = all.filter((sc) => sc.state === "READY" && sc.getTransport() !== undefined);
    if (ready.length > 0) return this.helper.updateState("READY", new RoundRobinPicker(ready));
    if (!this.started) return; // the channel leaves IDLE through exitIdle, which publishes
    if (all.some((sc) => sc.state === "CONNECTING" || sc.state === "IDLE")) return this.helper.updateState("CONNECTING", queuePicker);
    const cause = all.find((sc) => sc.lastError !== undefined)?.lastError ?? this.lastError;
    const why = all.length === 0 ? "the resolver returned no addresses" : "no backend is reachable";
    this.helper.updateState("TRANSIENT_FAILURE", failingPicker(new GrpcError(Code.UNAVAILABLE, `${why}${cause ? `: ${cause.message}` : ""}`, { cause })));
  }

  private release(sc: Subchannel): void {
    sc.removeListener(this.listener);
    sc.unref();
  }

  close(): void {
    for (const sc of this.subchannels.values()) this.release(sc);
    this.subchannels.clear();
  }
}

export const roundRobin: LbPolicyFactory = { name: "round_robin", create: (helper) => new RoundRobin(helper) };
