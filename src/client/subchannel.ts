/**
 * A subchannel: one backend address and at most one HTTP/2 connection to it, with
 * connection backoff (connection-backoff.md). After a failed attempt it waits its
 * backoff and tries again by itself while anyone holds a reference; a READY
 * connection that is lost, or that receives GOAWAY, takes it back to IDLE, and the
 * balancer decides whether to reconnect. Shared between channels through a pool
 * when address and connection options match.
 */
import type { ClientTransport } from "../transport/types.js";
import { ConnectionBackoff, type BackoffOptions } from "./backoff.js";
import type { ConnectivityState } from "./connectivity.js";
import { HealthWatcher, type HealthCheckOptions } from "./health-check.js";
import { addressKey, type Address } from "./resolver/resolver.js";

export interface ConnectHandlers {
  onConnect(): void;
  onClose(error: Error | undefined): void;
  onGoaway(errorCode: number, debug: string): void;
}

/** Opens one connection to an address; the transport layer's part of a subchannel. */
export type Connector = (address: Address, handlers: ConnectHandlers) => ClientTransport;

/**
 * Runs a connector; one that throws (bad TLS options, say) yields a transport that is
 * already closed, so the failure takes the usual path: a failed attempt with backoff.
 */
function connectSafely(connector: Connector, address: Address, handlers: ConnectHandlers): ClientTransport {
  try {
    return connector(address, handlers);
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    setImmediate(() => handlers.onClose(error));
    return {
      peer: undefined,
      usable: false,
      request() {
        throw error;
      },
      close() {},
      destroy() {},
    };
  }
}

export type SubchannelListener = (subchannel: Subchannel, state: ConnectivityState, error: Error | undefined) => void;

export class Subchannel {
  state: ConnectivityState = "IDLE";
  /** The failure that put it in TRANSIENT_FAILURE, for error messages. */
  lastError: Error | undefined;
  readonly key: string;
  private transport: ClientTransport | undefined;
  private readonly backoff: ConnectionBackoff;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private connectTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the current connection attempt started: the backoff counts from there. */
  private attemptStartedAt = 0;
  private readonly listeners = new Set<SubchannelListener>();
  private refs = 0;
  /** Called with the GOAWAY debug data (e.g. "too_many_pings"). */
  onGoaway: ((errorCode: number, debug: string) => void) | undefined;
  private watcher: HealthWatcher | undefined;

  constructor(
    readonly address: Address,
    private readonly connector: Connector,
    backoff: BackoffOptions,
    private readonly onUnused: (subchannel: Subchannel) => void,
    /** Client-side health checking (A17): READY only while the backend reports SERVING. */
    private readonly healthCheck?: HealthCheckOptions,
  ) {
    this.key = addressKey(address);
    this.backoff = new ConnectionBackoff(backoff);
  }

  /** The READY connection, or undefined. */
  getTransport(): ClientTransport | undefined {
    return this.state === "READY" && this.transport?.usable === true ? this.transport : undefined;
  }

  ref(): this {
    this.refs++;
    return this;
  }

  /** Drops a reference; the last one shuts the subchannel down. */
  unref(): void {
    if (--this.refs > 0) return;
    this.shutdown();
    this.onUnused(this);
  }

  addListener(listener: SubchannelListener): void {
    this.listeners.add(listener);
  }

  removeListener(listener: SubchannelListener): void {
    this.listeners.delete(listener);
  }

  /** IDLE → CONNECTING; otherwise nothing (a TRANSIENT_FAILURE subchannel retries on its own). */
  requestConnection(): void {
    if (this.state === "IDLE") this.connect();
  }

  private connect(): void {
    this.attemptStartedAt = Date.now();
    this.setState("CONNECTING", undefined);
    let settled = false;
    const transport = connectSafely(this.connector, this.address, {
      onConnect: () => {
        if (this.transport !== transport || settled) return;
        settled = true;
        clearTimeout(this.connectTimer);
        this.backoff.reset();
        if (this.healthCheck === undefined) {
          this.setState("READY", undefined);
          return;
        }
        // Connected, but offered to the balancer only once the backend says SERVING.
        this.watcher = new HealthWatcher(transport, this.healthCheck, (verdict, reason) => {
          if (this.transport !== transport) return;
          if (verdict === "healthy") this.setState("READY", undefined);
          else this.setState("TRANSIENT_FAILURE", new Error(`backend unhealthy: ${reason}`));
        });
      },
      onClose: (error) => {
        if (this.transport !== transport) return;
        this.transport = undefined;
        this.stopWatching();
        clearTimeout(this.connectTimer);
        if (!settled) {
          settled = true;
          this.fail(error ?? new Error("connection closed before it was established"));
        } else {
          this.setState("IDLE", error);
        }
      },
      onGoaway: (errorCode, debug) => {
        this.onGoaway?.(errorCode, debug);
        // No new streams on a connection that got GOAWAY: the next call needs a new one.
        if (this.transport === transport && settled) {
          this.transport = undefined;
          this.stopWatching();
          this.setState("IDLE", undefined);
        }
      },
    });
    this.transport = transport;
    this.connectTimer = setTimeout(() => {
      if (this.transport !== transport || settled) return;
      settled = true;
      this.transport = undefined;
      transport.destroy();
      this.fail(new Error(`connect timeout after ${this.backoff.connectTimeoutMs()} ms`));
    }, this.backoff.connectTimeoutMs());
    this.connectTimer.unref?.();
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }

  private fail(error: Error): void {
    this.setState("TRANSIENT_FAILURE", error);
    // connection-backoff.md: the next attempt is due a backoff after this one started,
    // so an attempt that used up its connect timeout is followed at once.
    const delay = Math.max(0, this.backoff.nextDelayMs() - (Date.now() - this.attemptStartedAt));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === "TRANSIENT_FAILURE") this.connect();
    }, delay);
    this.retryTimer.unref?.();
  }

  private setState(state: ConnectivityState, error: Error | undefined): void {
    if (this.state === "SHUTDOWN") return;
    if (error !== undefined) this.lastError = error;
    if (state === this.state) return;
    this.state = state;
    for (const listener of [...this.listeners]) listener(this, state, error);
  }

  /** Closes the connection gracefully (calls in flight finish) and stops reconnecting. */
  shutdown(): void {
    clearTimeout(this.retryTimer);
    clearTimeout(this.connectTimer);
    const transport = this.transport;
    this.transport = undefined;
    this.stopWatching();
    this.setState("SHUTDOWN", undefined);
    this.listeners.clear();
    transport?.close();
  }
}

/** Shares subchannels between channels whose connection options match. */
export class SubchannelPool {
  private readonly subchannels = new Map<string, Subchannel>();

  /** A referenced subchannel for `address` under the connection options named by `optionsKey`. */
  get(address: Address, optionsKey: string, connector: Connector, backoff: BackoffOptions, healthCheck?: HealthCheckOptions): Subchannel {
    const key = `${optionsKey}|${healthCheck === undefined ? "" : `health:${healthCheck.serviceName}`}|${addressKey(address)}`;
    const existing = this.subchannels.get(key);
    if (existing !== undefined && existing.state !== "SHUTDOWN") return existing.ref();
    const subchannel = new Subchannel(address, connector, backoff, () => {
      if (this.subchannels.get(key) === subchannel) this.subchannels.delete(key);
    }, healthCheck);
    this.subchannels.set(key, subchannel);
    return subchannel.ref();
  }

  get size(): number {
    return this.subchannels.size;
  }
}

/** The process-wide pool channels use unless given their own. */
export const globalSubchannelPool = new SubchannelPool();
