/**
 * pick_first (gRFC A62): try the addresses in order, use the first that connects for
 * every call. When all fail, report TRANSIENT_FAILURE and keep it (sticky) while the
 * subchannels retry with backoff, until one connects. A lost connection takes the
 * channel to IDLE and asks for re-resolution. `shuffleAddressList: true` shuffles
 * each address update.
 */
import { Code, GrpcError } from "../../protocol/status.js";
import type { ConnectivityState } from "../connectivity.js";
import { addressKey, type Address } from "../resolver/resolver.js";
import type { Subchannel } from "../subchannel.js";
import { failingPicker, queuePicker, type LbHelper, type LbPolicy, type LbPolicyFactory, type Picker } from "./balancer.js";

class PickFirst implements LbPolicy {
  private subchannels: Subchannel[] = [];
  private selected: Subchannel | undefined;
  private next = 0;
  private state: ConnectivityState = "IDLE";
  private readonly listener = (sc: Subchannel, state: ConnectivityState) => this.onSubchannelState(sc, state);

  constructor(private readonly helper: LbHelper) {}

  updateAddresses(addresses: readonly Address[], config: Record<string, unknown>): void {
    let list = [...new Map(addresses.map((a) => [addressKey(a), a])).values()];
    if (config.shuffleAddressList === true) list = shuffle(list);
    const keep = this.selected !== undefined && list.some((a) => addressKey(a) === this.selected!.key) ? this.selected : undefined;
    // Reuse the subchannels of addresses still listed: asking the pool again would return
    // the same object, and releasing the old reference would remove our listener from it.
    const unused = new Map(this.subchannels.map((sc) => [sc.key, sc]));
    this.subchannels = list.map((a) => {
      const existing = unused.get(addressKey(a));
      if (existing !== undefined) {
        unused.delete(existing.key);
        return existing;
      }
      const sc = this.helper.createSubchannel(a);
      sc.addListener(this.listener);
      return sc;
    });
    for (const sc of unused.values()) this.release(sc);
    if (keep !== undefined) return;
    this.selected = undefined;
    if (this.subchannels.length === 0) {
      this.publish("TRANSIENT_FAILURE", failingPicker(new GrpcError(Code.UNAVAILABLE, "the resolver returned no addresses")));
      return;
    }
    if (this.state !== "IDLE") this.startFrom(0);
  }

  resolverError(error: Error): void {
    if (this.subchannels.length === 0 || this.state === "TRANSIENT_FAILURE") {
      this.publish("TRANSIENT_FAILURE", failingPicker(new GrpcError(Code.UNAVAILABLE, `name resolution failed: ${error.message}`, { cause: error })));
    }
  }

  exitIdle(): void {
    if (this.state === "IDLE" && this.subchannels.length > 0) this.startFrom(0);
  }

  private startFrom(index: number): void {
    this.next = index;
    if (this.state !== "TRANSIENT_FAILURE") this.publish("CONNECTING", queuePicker);
    this.tryNext();
  }

  private tryNext(): void {
    while (this.next < this.subchannels.length) {
      const sc = this.subchannels[this.next]!;
      if (sc.state === "READY") return this.select(sc);
      if (sc.state === "IDLE") {
        sc.requestConnection();
        return;
      }
      if (sc.state === "CONNECTING") return;
      this.next++; // TRANSIENT_FAILURE: it retries by itself; try the next address meanwhile.
    }
    const last = this.subchannels.at(-1)?.lastError;
    this.publish("TRANSIENT_FAILURE", failingPicker(new GrpcError(Code.UNAVAILABLE, `no address could be connected${last ? `: ${last.message}` : ""}`, { cause: last })));
  }

  private onSubchannelState(sc: Subchannel, state: ConnectivityState): void {
    if (this.selected !== undefined) {
      if (sc === this.selected && state !== "READY") {
        // The connection in use is gone: IDLE until the next call, with fresh addresses.
        this.selected = undefined;
        this.helper.requestReresolution();
        this.publish("IDLE", queuePicker);
      }
      return;
    }
    if (state === "READY") return this.select(sc);
    if (this.state === "IDLE") return;
    if (state === "TRANSIENT_FAILURE" && this.subchannels[this.next] === sc) {
      this.next++;
      this.tryNext();
    }
  }

  private select(sc: Subchannel): void {
    this.selected = sc;
    const result = { type: "complete", subchannel: sc } as const;
    this.publish("READY", { pick: () => result });
  }

  private publish(state: ConnectivityState, picker: Picker): void {
    this.state = state;
    this.helper.updateState(state, picker);
  }

  private release(sc: Subchannel): void {
    sc.removeListener(this.listener);
    sc.unref();
  }

  close(): void {
    for (const sc of this.subchannels) this.release(sc);
    this.subchannels = [];
    this.selected = undefined;
  }
}

function shuffle<T>(list: T[]): T[] {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
  return list;
}

export const pickFirst: LbPolicyFactory = { name: "pick_first", create: (helper) => new PickFirst(helper) };
