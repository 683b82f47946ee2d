/**
 * Load balancing (grpc/grpc doc/load-balancing.md): a policy owns subchannels for the
 * resolved addresses and publishes a state and a picker; the channel asks the picker
 * for a subchannel per call. Policies are found by name in a registry users can add to.
 */
import type { GrpcError } from "../../protocol/status.js";
import type { ConnectivityState } from "../connectivity.js";
import type { Address } from "../resolver/resolver.js";
import type { Subchannel } from "../subchannel.js";

export type LbPolicyName = "pick_first" | "round_robin" | (string & {});

export type PickResult =
  | { readonly type: "complete"; readonly subchannel: Subchannel }
  /** Wait for the next picker (connecting). */
  | { readonly type: "queue" }
  /** Fail the call with UNAVAILABLE unless it is wait-for-ready. */
  | { readonly type: "fail"; readonly error: GrpcError }
  /** Fail the call even if wait-for-ready, and never retry it. */
  | { readonly type: "drop"; readonly error: GrpcError };

export interface Picker {
  pick(): PickResult;
}

/** What a policy may ask of its channel. */
export interface LbHelper {
  /** A referenced subchannel for `address`; the policy unrefs it when done with it. */
  createSubchannel(address: Address): Subchannel;
  updateState(state: ConnectivityState, picker: Picker): void;
  requestReresolution(): void;
}

export interface LbPolicy {
  /** New addresses (and this policy's config object) from the resolver. */
  updateAddresses(addresses: readonly Address[], config: Record<string, unknown>): void;
  /** The resolver failed; a policy with no addresses goes TRANSIENT_FAILURE. */
  resolverError(error: Error): void;
  /** Leave IDLE: start connecting. */
  exitIdle(): void;
  close(): void;
}

export interface LbPolicyFactory {
  readonly name: LbPolicyName;
  create(helper: LbHelper): LbPolicy;
}

const registry = new Map<string, LbPolicyFactory>();

export function registerLbPolicy(factory: LbPolicyFactory): void {
  registry.set(factory.name, factory);
}

export function getLbPolicyFactory(name: string): LbPolicyFactory | undefined {
  return registry.get(name);
}

export const queuePicker: Picker = { pick: () => ({ type: "queue" }) };

export function failingPicker(error: GrpcError): Picker {
  const result: PickResult = { type: "fail", error };
  return { pick: () => result };
}
