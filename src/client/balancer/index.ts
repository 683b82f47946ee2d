/** The load-balancing policy registry with pick_first and round_robin registered. */
import { registerLbPolicy } from "./balancer.js";
import { pickFirst } from "./pick-first.js";
import { roundRobin } from "./round-robin.js";

registerLbPolicy(pickFirst);
registerLbPolicy(roundRobin);

export { failingPicker, getLbPolicyFactory, queuePicker, registerLbPolicy } from "./balancer.js";
export type { LbHelper, LbPolicy, LbPolicyFactory, LbPolicyName, Picker, PickResult } from "./balancer.js";
