/**
 * The channel: a target resolved into addresses, a load-balancing policy over
 * subchannels (one HTTP/2 connection each), a service config, and the connectivity
 * state of the whole. Calls ask it for a connection ("pick"); while it is IDLE or
 * CONNECTING they wait, in TRANSIENT_FAILURE they fail fast with UNAVAILABLE unless
 * wait-for-ready. Closing it fails waiting calls and lets running ones finish.
 */
import { CodecRegistry } from "../protocol/compression.js";
import { Code, GrpcError } from "../protocol/status.js";
import { defaultCodecs } from "../compression/zlib.js";
import { NodeHttp2ClientTransport } from "../transport/node-http2/client.js";
import { H2ClientTransport } from "../transport/h2/client.js";
import { defaultTransport, type TransportName } from "../transport/default.js";
import { Http2ErrorCode, type ClientTransport } from "../transport/types.js";
import type { BackoffOptions } from "./backoff.js";
import { getLbPolicyFactory, queuePicker, type LbPolicy, type Picker } from "./balancer/index.js";
import { lookupMethodConfig, parseServiceConfig, ServiceConfigError, type MethodConfig, type ServiceConfig } from "./config/service-config.js";
import type { ConnectivityState } from "./connectivity.js";
import type { HealthCheckOptions } from "./health-check.js";
import { credentials as channelCredentials, type ChannelCredentials } from "./credentials.js";
import type { ClientInterceptor } from "./interceptor.js";
import { RetryThrottle } from "./retry/throttle.js";
import { parseTarget } from "./target.js";
import { formatHostPort, HttpConnectTransport, proxyRouteFor, type ProxyRoute } from "./proxy.js";
import { getResolverFactory, parseTargetUri, type Address, type Resolver, type ResolverResult, type TargetUri } from "./resolver/index.js";
import { globalSubchannelPool, type ConnectHandlers, type Connector, type SubchannelPool } from "./subchannel.js";

export interface ChannelOptions {
  /** Largest response message accepted, after decompression. Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest request message sent. Default unlimited. */
  maxSendMessageBytes?: number;
  /** Compression algorithms offered and accepted. Default gzip and deflate. */
  codecs?: CodecRegistry;
  /** Algorithm for request messages of every call ("gzip", "deflate"); a call option overrides it. Default none. */
  compression?: string;
  /** Run around every call made on this channel, first listed outermost. */
  interceptors?: readonly ClientInterceptor[];
  /** Overrides the :authority header (and, on TLS, the name checked unless the credentials set one). */
  authority?: string;
  /** Prepended to this library's user-agent. */
  userAgent?: string;
  /** The service config used until (and unless) the resolver provides one: JSON text or object. */
  serviceConfig?: string | object;
  /** Load-balancing policy; overrides the service config's choice. Default pick_first. */
  loadBalancingPolicy?: string;
  /** Connection backoff; the defaults are connection-backoff.md's. */
  backoff?: BackoffOptions;
  /** IDLE after this long without calls (connections closed, resolver stopped). Default 30 min. */
  idleTimeoutMs?: number;
  /** Minimum time between two DNS resolutions. Default 30 s. */
  minResolutionIntervalMs?: number;
  /** Share subchannels with other channels whose connection options match (default: the global pool). */
  subchannelPool?: SubchannelPool;
  /** The HTTP/2 implementation: our own ("h2", the default) or node:http2 ("node-http2"); GRPC_TS_TRANSPORT sets the default. */
  transport?: "node-http2" | "h2";
  /** Keepalive (gRFC A8): PING after this long; at least 10 s. Default off. */
  keepaliveTimeMs?: number;
  /** Close the connection when a keepalive PING is not answered within this. Default 20 s. */
  keepaliveTimeoutMs?: number;
  /** Send keepalive PINGs even with no call open. Default false. */
  keepalivePermitWithoutCalls?: boolean;
  /** Client-side health checking when the service config has healthCheckConfig. Set false to turn it off. Default true. */
  healthChecks?: boolean;
  /** Retries and hedging by the service config's policies. Set false to turn them off for every call. Default true. */
  retries?: boolean;
  /**
   * HTTP CONNECT proxy (gRFC A1) for dns targets: "http://[user:pass@]host:port" uses
   * that proxy, false uses none. Default: grpc_proxy, https_proxy or http_proxy from the
   * environment, unless no_proxy lists the target host.
   */
  httpProxy?: string | false;
  /** TEST ONLY: lowers A8's 10 s floor on keepaliveTimeMs so tests can run fast. Never set it in production. */
  testOnlyMinKeepaliveTimeMs?: number;
}

const keepaliveFloorMs = 10_000;
const defaultKeepaliveTimeoutMs = 20_000;

export const defaultMaxReceiveMessageBytes = 4 * 1024 * 1024;
const defaultIdleTimeoutMs = 30 * 60_000;
const libraryUserAgent = "grpc-ts/0.1.0";

/** A call waiting for a connection. */
export interface PendingPick {
  readonly waitForReady: boolean;
  onPicked(transport: ClientTransport): void;
  onPickFailed(error: GrpcError): void;
}

export class Channel {
  readonly target: TargetUri;
  /** What the resolver resolves: the target, or the proxy's name when calls go through one. */
  private readonly resolveTarget: TargetUri;
  /** Set when connections tunnel through an HTTP CONNECT proxy. */
  private readonly proxyRoute: ProxyRoute | undefined;
  readonly authority: string;
  readonly secure: boolean;
  readonly userAgent: string;
  readonly codecs: CodecRegistry;
  readonly maxReceiveMessageBytes: number;
  readonly maxSendMessageBytes: number;
  readonly interceptors: readonly ClientInterceptor[];

  private state: ConnectivityState = "IDLE";
  private picker: Picker = queuePicker;
  private readonly pending = new Set<PendingPick>();
  private readonly stateListeners = new Set<(state: ConnectivityState) => void>();
  private resolver: Resolver | undefined;
  private policy: LbPolicy | undefined;
  private policyName: string | undefined;
  private serviceConfig: ServiceConfig | undefined;
  private readonly defaultServiceConfig: ServiceConfig | undefined;
  private activeCalls = 0;
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly connector: Connector;
  private readonly optionsKey: string;
  private throttle: RetryThrottle | undefined;
  /** True once the resolver answered (or failed) since the channel last left IDLE. */
  private resolvedOnce = false;
  private configWaiters: (() => void)[] = [];
  private readonly transportName: TransportName;
  /** Doubled when a server answers GOAWAY too_many_pings (A8), for new connections. */
  private keepaliveTimeMs: number;

  constructor(target: string, readonly credentials: ChannelCredentials, readonly options: ChannelOptions = {}) {
    this.target = parseTargetUri(target);
    const factory = getResolverFactory(this.target.scheme);
    if (factory === undefined) throw new TypeError(`no resolver for the scheme of target ${JSON.stringify(target)}`);
    // Built-in schemes are checked now, so a malformed target fails here, not at the first call.
    const builtin = ["dns", "ipv4", "ipv6", "unix"].includes(this.target.scheme) ? parseTarget(target) : undefined;
    const nameOverride = credentials.kind === "tls" ? credentials.serverNameOverride : undefined;
    this.authority = options.authority ?? nameOverride ?? builtin?.authority ?? factory.defaultAuthority(this.target);
    this.secure = credentials.kind === "tls";
    // A1: only dns targets go through a proxy; the channel then resolves the proxy's name.
    this.proxyRoute = builtin?.scheme === "dns" ? proxyRouteFor(builtin, options.httpProxy) : undefined;
    this.resolveTarget = this.proxyRoute === undefined ? this.target : { scheme: "dns", authority: "", endpoint: formatHostPort(this.proxyRoute.proxy.host, this.proxyRoute.proxy.port) };
    this.userAgent = options.userAgent === undefined ? libraryUserAgent : `${options.userAgent} ${libraryUserAgent}`;
    this.codecs = options.codecs ?? defaultCodecs();
    this.maxReceiveMessageBytes = options.maxReceiveMessageBytes ?? defaultMaxReceiveMessageBytes;
    this.maxSendMessageBytes = options.maxSendMessageBytes ?? Infinity;
    this.interceptors = options.interceptors ?? [];
    this.defaultServiceConfig = options.serviceConfig === undefined ? undefined : parseServiceConfig(options.serviceConfig);
    this.serviceConfig = this.defaultServiceConfig;
    this.transportName = options.transport ?? defaultTransport();
    const floor = options.testOnlyMinKeepaliveTimeMs ?? keepaliveFloorMs;
    this.keepaliveTimeMs = options.keepaliveTimeMs === undefined ? Infinity : Math.max(options.keepaliveTimeMs, floor);
    this.connector = this.makeConnector();
    // Channels share a subchannel only when everything about the connection is the same.
    this.optionsKey = [
      this.transportName,
      this.keepaliveTimeMs, options.keepaliveTimeoutMs, options.keepalivePermitWithoutCalls,
      credentials.kind === "insecure" ? "insecure" : `tls:${sharingId(credentials)}:${this.authority}`,
      this.proxyRoute === undefined ? "direct" : `connect:${formatHostPort(this.proxyRoute.target.host, this.proxyRoute.target.port)}:${this.proxyRoute.proxy.userinfo ?? ""}`,
    ].join("|");
  }

  // ---- connectivity ----

  /** The current state; `tryToConnect` leaves IDLE as a call would. */
  getConnectivityState(tryToConnect = false): ConnectivityState {
    if (tryToConnect && this.state === "IDLE") this.exitIdle();
    return this.state;
  }

  /** Calls `listener` on every state change until the returned function is called. */
  onStateChange(listener: (state: ConnectivityState) => void): () => void {
    this.stateListeners.add(listener);
    return () => this.stateListeners.delete(listener);
  }

  /**
   * Resolves true when the state differs from `current`, false if `deadline`
   * (epoch ms) passes first: grpc's one-shot watch.
   */
  watchConnectivityState(current: ConnectivityState, deadline?: number): Promise<boolean> {
    if (this.state !== current) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stop = this.onStateChange((state) => {
        if (state === current) return;
        stop();
        clearTimeout(timer);
        resolve(true);
      });
      if (deadline !== undefined) {
        timer = setTimeout(() => {
          stop();
          resolve(false);
        }, Math.max(0, deadline - Date.now()));
      }
    });
  }

  private setState(state: ConnectivityState, picker: Picker): void {
    if (this.state === "SHUTDOWN") return;
    this.picker = picker;
    const changed = state !== this.state;
    this.state = state;
    if (changed) for (const listener of [...this.stateListeners]) listener(state);
    this.retryPending();
  }

  private exitIdle(): void {
    if (this.state !== "IDLE") return;
    // Connected by getConnectivityState(true) and never used: idle again after the timeout too.
    if (this.activeCalls === 0) this.startIdleTimer();
    if (this.resolver === undefined) {
      this.setState("CONNECTING", queuePicker);
      const factory = getResolverFactory(this.resolveTarget.scheme)!;
      try {
        this.resolver = factory.create(
          this.resolveTarget,
          { onResult: (r) => this.onResolved(r), onError: (e) => this.onResolverError(e) },
          { defaultPort: this.secure ? 443 : 80, minResolutionIntervalMs: this.options.minResolutionIntervalMs },
        );
      } catch (err) {
        this.onResolverError(err as Error);
      }
      return;
    }
    this.policy?.exitIdle();
  }

  /**
   * Runs `fn` once the channel's service config is known (after the first resolution,
   * gRFC A21), leaving IDLE to get it; at once when it is known already.
   */
  /** Whether the service config is known (whenConfigured would run at once). */
  get configured(): boolean {
    return this.resolvedOnce || this.state === "SHUTDOWN";
  }

  whenConfigured(fn: () => void): void {
    if (this.resolvedOnce || this.state === "SHUTDOWN") return fn();
    this.configWaiters.push(fn);
    if (this.state === "IDLE") this.exitIdle();
  }

  private configKnown(): void {
    this.resolvedOnce = true;
    const waiters = this.configWaiters;
    this.configWaiters = [];
    for (const fn of waiters) fn();
  }

  private onResolved(result: ResolverResult): void {
    if (this.state === "SHUTDOWN") return;
    queueMicrotask(() => this.configKnown());
    let config = this.serviceConfig;
    if (result.serviceConfig instanceof ServiceConfigError) {
      // A21: keep the last good config; with none, the channel cannot work.
      if (config === undefined) return this.onResolverError(result.serviceConfig);
    } else if (result.serviceConfig !== undefined) {
      config = result.serviceConfig;
    }
    this.serviceConfig = config;
    const { name, config: lbConfig } = this.chooseLbPolicy(config);
    if (this.policy === undefined || this.policyName !== name) {
      this.policy?.close();
      this.policyName = name;
      this.policy = getLbPolicyFactory(name)!.create({
        createSubchannel: (address: Address) => (this.options.subchannelPool ?? globalSubchannelPool).get(address, this.optionsKey, this.connector, this.options.backoff ?? {}, this.healthCheckOptions()),
        updateState: (state, picker) => this.setState(state, picker),
        requestReresolution: () => this.resolver?.resolveNow(),
      });
      this.policy.updateAddresses(result.addresses, lbConfig);
      this.policy.exitIdle();
      return;
    }
    this.policy.updateAddresses(result.addresses, lbConfig);
  }

  /** A17: health checking when the service config names a service (and the channel allows it). */
  private healthCheckOptions(): HealthCheckOptions | undefined {
    const serviceName = this.serviceConfig?.healthCheckServiceName;
    if (serviceName === undefined || this.options.healthChecks === false) return undefined;
    return { serviceName, authority: this.authority, secure: this.secure, userAgent: this.userAgent };
  }

  private chooseLbPolicy(config: ServiceConfig | undefined): { name: string; config: Record<string, unknown> } {
    const forced = this.options.loadBalancingPolicy;
    if (forced !== undefined) {
      if (getLbPolicyFactory(forced) === undefined) throw new TypeError(`unknown load-balancing policy ${JSON.stringify(forced)}`);
      return { name: forced, config: config?.loadBalancingConfig.find((e) => e.name === forced)?.config ?? {} };
    }
    for (const entry of config?.loadBalancingConfig ?? []) {
      if (getLbPolicyFactory(entry.name) !== undefined) return entry;
    }
    return { name: "pick_first", config: {} };
  }

  private onResolverError(error: Error): void {
    if (this.state === "SHUTDOWN") return;
    queueMicrotask(() => this.configKnown());
    if (this.policy !== undefined) {
      this.policy.resolverError(error);
      return;
    }
    this.setState("TRANSIENT_FAILURE", { pick: () => ({ type: "fail", error: new GrpcError(Code.UNAVAILABLE, `name resolution failed for ${this.authority}: ${error.message}`, { cause: error }) }) });
  }

  // ---- picking a connection for a call ----

  /** The method config the service config holds for a method, if any. */
  methodConfig(service: string, method: string): MethodConfig | undefined {
    return lookupMethodConfig(this.serviceConfig, service, method);
  }

  /** The service config in effect (retry throttling, health checking). */
  currentServiceConfig(): ServiceConfig | undefined {
    return this.serviceConfig;
  }

  /** The retry token bucket of this channel when the service config sets retryThrottling. */
  retryThrottle(): RetryThrottle | undefined {
    const config = this.serviceConfig?.retryThrottling;
    if (config === undefined) return undefined;
    if (this.throttle?.config !== config) this.throttle = new RetryThrottle(config);
    return this.throttle;
  }

  /**
   * A connection for a call: at once when the channel is READY, else later through
   * `call.onPicked` / `call.onPickFailed`. Returns undefined when the call waits.
   */
  pick(call: PendingPick): ClientTransport | GrpcError | undefined {
    if (this.state === "SHUTDOWN") return new GrpcError(Code.UNAVAILABLE, "channel is closed");
    if (this.state === "IDLE") this.exitIdle();
    const result = this.picker.pick();
    switch (result.type) {
      case "complete": {
        const transport = result.subchannel.getTransport();
        if (transport !== undefined) return transport;
        break; // picked a subchannel that just went away: wait for the next picker
      }
      case "fail":
        if (!call.waitForReady) return result.error;
        break;
      case "drop":
        return result.error;
      case "queue":
        break;
    }
    this.pending.add(call);
    return undefined;
  }

  /** A waiting call gave up (deadline, cancel). */
  cancelPick(call: PendingPick): void {
    this.pending.delete(call);
  }

  private retryPending(): void {
    if (this.pending.size === 0) return;
    for (const call of [...this.pending]) {
      this.pending.delete(call);
      const outcome = this.pick(call);
      if (outcome instanceof GrpcError) call.onPickFailed(outcome);
      else if (outcome !== undefined) call.onPicked(outcome);
    }
  }

  /** Counts calls for the idle timer; `callEnded` must follow every `callStarted`. */
  callStarted(): void {
    this.activeCalls++;
    if (this.idleTimer !== undefined) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
    }
  }

  callEnded(): void {
    if (--this.activeCalls > 0 || this.state === "SHUTDOWN") return;
    this.startIdleTimer();
  }

  private startIdleTimer(): void {
    clearTimeout(this.idleTimer);
    const idleMs = this.options.idleTimeoutMs ?? defaultIdleTimeoutMs;
    this.idleTimer = setTimeout(() => this.enterIdle(), idleMs);
    this.idleTimer.unref?.();
  }

  private enterIdle(): void {
    this.idleTimer = undefined;
    if (this.activeCalls > 0 || this.state === "SHUTDOWN") return;
    this.policy?.close();
    this.policy = undefined;
    this.policyName = undefined;
    this.resolver?.close();
    this.resolver = undefined;
    this.serviceConfig = this.defaultServiceConfig;
    this.resolvedOnce = false;
    this.setState("IDLE", queuePicker);
  }

  /** Closes the channel: SHUTDOWN; waiting calls fail UNAVAILABLE, running ones finish. */
  close(): void {
    if (this.state === "SHUTDOWN") return;
    clearTimeout(this.idleTimer);
    this.policy?.close();
    this.resolver?.close();
    this.policy = undefined;
    this.resolver = undefined;
    this.state = "SHUTDOWN";
    for (const listener of [...this.stateListeners]) listener("SHUTDOWN");
    this.stateListeners.clear();
    const waiting = [...this.pending];
    this.pending.clear();
    for (const call of waiting) call.onPickFailed(new GrpcError(Code.UNAVAILABLE, "channel is closed"));
    // Calls waiting for the first resolution start now, and fail on the closed channel.
    const configWaiters = this.configWaiters;
    this.configWaiters = [];
    for (const fn of configWaiters) fn();
  }

  private makeConnector(): Connector {
    const creds = this.credentials;
    const serverName = creds.kind === "tls" ? creds.serverNameOverride ?? this.options.authority?.replace(/:\d+$/, "") : undefined;
    const tls = creds.kind === "tls" ? { ca: creds.ca, cert: creds.cert, key: creds.key, serverName } : undefined;
    const useH2 = this.transportName === "h2";
    return (address: Address, handlers: ConnectHandlers) => {
      const onGoaway = (code: number, debug = "") => {
        if (code === Http2ErrorCode.ENHANCE_YOUR_CALM && debug === "too_many_pings" && Number.isFinite(this.keepaliveTimeMs)) {
          this.keepaliveTimeMs *= 2; // A8: the server thinks we ping too often
        }
        handlers.onGoaway(code, debug);
      };
      const common = { address, tls, onConnect: handlers.onConnect, onClose: handlers.onClose, onGoaway };
      const keepalive = Number.isFinite(this.keepaliveTimeMs)
        ? { timeMs: this.keepaliveTimeMs, timeoutMs: this.options.keepaliveTimeoutMs ?? defaultKeepaliveTimeoutMs, permitWithoutCalls: this.options.keepalivePermitWithoutCalls === true }
        : undefined;
      const route = this.proxyRoute;
      if (route === undefined) {
        if (useH2) return new H2ClientTransport({ ...common, keepalive });
        return new NodeHttp2ClientTransport({ ...common, keepalive });
      }
      // `address` is the proxy's; the transport inside the tunnel talks to (and checks TLS for) the target.
      return new HttpConnectTransport(address, route, handlers, (socket) => {
        const tunneled = { ...common, keepalive, address: route.target, socket };
        return useH2 ? new H2ClientTransport(tunneled) : new NodeHttp2ClientTransport(tunneled);
      });
    };
  }
}

const ids = new WeakMap<object, number>();
let nextId = 0;
/** Credentials objects are compared by identity when deciding to share subchannels. */
function sharingId(creds: object): number {
  let id = ids.get(creds);
  if (id === undefined) ids.set(creds, (id = ++nextId));
  return id;
}

/** A channel to `target` ("host:port", "dns:///host:port", "ipv4:a:p,b:p", "unix:path", …). */
export function createChannel(target: string, credentials: ChannelCredentials = channelCredentials.insecure(), options?: ChannelOptions): Channel {
  return new Channel(target, credentials, options);
}
