/**
 * Service config (grpc/grpc doc/service_config.md, gRFC A6, A21): parsed and validated
 * as a whole — one invalid field rejects the config with an error naming it — then
 * looked up per method with the precedence service+method, service, default.
 * Unknown fields are ignored, as the spec asks.
 */
import { Code, parseCode } from "../../protocol/status.js";
import { parseDurationMs } from "./duration.js";

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  readonly retryableStatusCodes: ReadonlySet<Code>;
}

export interface HedgingPolicy {
  readonly maxAttempts: number;
  readonly hedgingDelayMs: number;
  readonly nonFatalStatusCodes: ReadonlySet<Code>;
}

export interface MethodConfig {
  readonly waitForReady?: boolean;
  readonly timeoutMs?: number;
  readonly maxRequestMessageBytes?: number;
  readonly maxResponseMessageBytes?: number;
  readonly retryPolicy?: RetryPolicy;
  readonly hedgingPolicy?: HedgingPolicy;
}

export interface RetryThrottling {
  readonly maxTokens: number;
  readonly tokenRatio: number;
}

/** One entry of loadBalancingConfig: a policy name and its own config object. */
export interface LbConfigEntry {
  readonly name: string;
  readonly config: Record<string, unknown>;
}

export interface ServiceConfig {
  /** Candidate policies in order; the channel uses the first one it knows. Empty: pick_first. */
  readonly loadBalancingConfig: readonly LbConfigEntry[];
  readonly retryThrottling?: RetryThrottling;
  /** healthCheckConfig.serviceName: client-side health checking (gRFC A17) when set. */
  readonly healthCheckServiceName?: string;
  /** Keys "service/method", "service/" and "" (the default). */
  readonly methodConfigs: ReadonlyMap<string, MethodConfig>;
}

export class ServiceConfigError extends TypeError {
  override readonly name = "ServiceConfigError";
}

const maxAttemptsCap = 5;

function fail(path: string, problem: string): never {
  throw new ServiceConfigError(`invalid service config: ${path} ${problem}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function duration(value: unknown, path: string, { allowZero }: { allowZero: boolean }): number {
  const ms = parseDurationMs(value);
  if (ms === undefined) fail(path, `must be a duration string such as "1.5s", got ${JSON.stringify(value)}`);
  if (ms < 0 || (!allowZero && ms === 0)) fail(path, `must be ${allowZero ? ">= 0" : "> 0"}, got ${JSON.stringify(value)}`);
  return ms;
}

function codes(value: unknown, path: string, { required }: { required: boolean }): Set<Code> {
  if (value === undefined && !required) return new Set();
  if (!Array.isArray(value) || (required && value.length === 0)) fail(path, "must be a non-empty list of status codes");
  const out = new Set<Code>();
  value.forEach((entry, i) => {
    const code = parseCode(entry);
    if (code === undefined) fail(`${path}[${i}]`, `is not a status code: ${JSON.stringify(entry)}`);
    out.add(code);
  });
  return out;
}

function positiveInt(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) fail(path, `must be a positive integer, got ${JSON.stringify(value)}`);
  return value;
}

function attempts(value: unknown, path: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 2) fail(path, `must be an integer greater than 1, got ${JSON.stringify(value)}`);
  return Math.min(value, maxAttemptsCap);
}

function parseRetryPolicy(raw: unknown, path: string): RetryPolicy {
  if (!isObject(raw)) fail(path, "must be an object");
  const multiplier = raw.backoffMultiplier;
  if (typeof multiplier !== "number" || !(multiplier > 0)) fail(`${path}.backoffMultiplier`, `must be a number > 0, got ${JSON.stringify(multiplier)}`);
  return {
    maxAttempts: attempts(raw.maxAttempts, `${path}.maxAttempts`),
    initialBackoffMs: duration(raw.initialBackoff, `${path}.initialBackoff`, { allowZero: false }),
    maxBackoffMs: duration(raw.maxBackoff, `${path}.maxBackoff`, { allowZero: false }),
    backoffMultiplier: multiplier,
    retryableStatusCodes: codes(raw.retryableStatusCodes, `${path}.retryableStatusCodes`, { required: true }),
  };
}

function parseHedgingPolicy(raw: unknown, path: string): HedgingPolicy {
  if (!isObject(raw)) fail(path, "must be an object");
  return {
    maxAttempts: attempts(raw.maxAttempts, `${path}.maxAttempts`),
    hedgingDelayMs: raw.hedgingDelay === undefined ? 0 : duration(raw.hedgingDelay, `${path}.hedgingDelay`, { allowZero: true }),
    nonFatalStatusCodes: codes(raw.nonFatalStatusCodes, `${path}.nonFatalStatusCodes`, { required: false }),
  };
}

function parseMethodConfig(raw: unknown, path: string, into: Map<string, MethodConfig>): void {
  if (!isObject(raw)) fail(path, "must be an object");
  if (raw.retryPolicy !== undefined && raw.hedgingPolicy !== undefined) fail(path, "may set retryPolicy or hedgingPolicy, not both");
  const config: MethodConfig = {
    ...(raw.waitForReady !== undefined && { waitForReady: typeof raw.waitForReady === "boolean" ? raw.waitForReady : fail(`${path}.waitForReady`, "must be a boolean") }),
    ...(raw.timeout !== undefined && { timeoutMs: duration(raw.timeout, `${path}.timeout`, { allowZero: true }) }),
    ...(raw.maxRequestMessageBytes !== undefined && { maxRequestMessageBytes: positiveInt(raw.maxRequestMessageBytes, `${path}.maxRequestMessageBytes`) }),
    ...(raw.maxResponseMessageBytes !== undefined && { maxResponseMessageBytes: positiveInt(raw.maxResponseMessageBytes, `${path}.maxResponseMessageBytes`) }),
    ...(raw.retryPolicy !== undefined && { retryPolicy: parseRetryPolicy(raw.retryPolicy, `${path}.retryPolicy`) }),
    ...(raw.hedgingPolicy !== undefined && { hedgingPolicy: parseHedgingPolicy(raw.hedgingPolicy, `${path}.hedgingPolicy`) }),
  };
  const names = raw.name;
  if (!Array.isArray(names) || names.length === 0) fail(`${path}.name`, "must be a non-empty list of {service, method}");
  names.forEach((name, i) => {
    const namePath = `${path}.name[${i}]`;
    if (!isObject(name)) fail(namePath, "must be an object");
    const service = name.service ?? "";
    const method = name.method ?? "";
    if (typeof service !== "string" || typeof method !== "string") fail(namePath, "service and method must be strings");
    if (service === "" && method !== "") fail(namePath, "names a method without a service");
    const key = service === "" ? "" : `${service}/${method}`;
    if (into.has(key)) fail(namePath, `names ${JSON.stringify(key || "the default")} twice`);
    into.set(key, config);
  });
}

function parseLbConfig(raw: Record<string, unknown>): LbConfigEntry[] {
  if (raw.loadBalancingConfig !== undefined) {
    if (!Array.isArray(raw.loadBalancingConfig)) fail("loadBalancingConfig", "must be a list");
    return raw.loadBalancingConfig.map((entry, i) => {
      if (!isObject(entry) || Object.keys(entry).length !== 1) fail(`loadBalancingConfig[${i}]`, "must be an object with exactly one policy name");
      const [name, config] = Object.entries(entry)[0]!;
      if (!isObject(config)) fail(`loadBalancingConfig[${i}].${name}`, "must be an object");
      return { name, config };
    });
  }
  if (raw.loadBalancingPolicy !== undefined) {
    if (typeof raw.loadBalancingPolicy !== "string") fail("loadBalancingPolicy", "must be a string");
    return [{ name: raw.loadBalancingPolicy.toLowerCase(), config: {} }];
  }
  return [];
}

/** Parses and validates a service config (JSON text or an already parsed object). */
export function parseServiceConfig(input: string | object): ServiceConfig {
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch (err) {
      throw new ServiceConfigError(`invalid service config: not JSON (${(err as Error).message})`);
    }
  }
  if (!isObject(raw)) fail("the top level", "must be an object");
  const methodConfigs = new Map<string, MethodConfig>();
  if (raw.methodConfig !== undefined) {
    if (!Array.isArray(raw.methodConfig)) fail("methodConfig", "must be a list");
    raw.methodConfig.forEach((mc, i) => parseMethodConfig(mc, `methodConfig[${i}]`, methodConfigs));
  }
  let retryThrottling: RetryThrottling | undefined;
  if (raw.retryThrottling !== undefined) {
    const rt = raw.retryThrottling;
    if (!isObject(rt)) fail("retryThrottling", "must be an object");
    const { maxTokens, tokenRatio } = rt;
    if (typeof maxTokens !== "number" || !(maxTokens > 0 && maxTokens <= 1000)) fail("retryThrottling.maxTokens", `must be in (0, 1000], got ${JSON.stringify(maxTokens)}`);
    if (typeof tokenRatio !== "number" || !(tokenRatio > 0)) fail("retryThrottling.tokenRatio", `must be > 0, got ${JSON.stringify(tokenRatio)}`);
    // A6: the ratio keeps three decimal places.
    retryThrottling = { maxTokens, tokenRatio: Math.round(tokenRatio * 1000) / 1000 };
  }
  let healthCheckServiceName: string | undefined;
  if (raw.healthCheckConfig !== undefined) {
    const hc = raw.healthCheckConfig;
    if (!isObject(hc) || (hc.serviceName !== undefined && typeof hc.serviceName !== "string")) fail("healthCheckConfig", "must be {serviceName: string}");
    healthCheckServiceName = (hc.serviceName as string | undefined) ?? "";
  }
  return { loadBalancingConfig: parseLbConfig(raw), retryThrottling, healthCheckServiceName, methodConfigs };
}

/** The config for one method: exact method, else its service, else the default. */
export function lookupMethodConfig(config: ServiceConfig | undefined, service: string, method: string): MethodConfig | undefined {
  if (config === undefined) return undefined;
  const m = config.methodConfigs;
  return m.get(`${service}/${method}`) ?? m.get(`${service}/`) ?? m.get("");
}
