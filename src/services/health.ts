/**
 * grpc.health.v1.Health (grpc/grpc doc/health-checking.md): Check, Watch and List over
 * a registry of per-service statuses, "" being the whole server. Graceful shutdown
 * turns every status NOT_SERVING first, so load balancers drain before calls are refused.
 */
import { create } from "@bufbuild/protobuf";
import { Code, GrpcError } from "../protocol/status.js";
import { AsyncQueue } from "../util/async-queue.js";
import type { Server } from "../server/server.js";
import type { ServiceImpl } from "../server/handler.js";
import {
  Health,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
  type HealthCheckResponse,
} from "../gen/grpc/health/v1/health_pb.js";

export { ServingStatus };

/** Statuses by exact service name; "" is the overall health of the server. */
export class HealthRegistry {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly watchers = new Map<string, Set<AsyncQueue<HealthCheckResponse>>>();
  private shuttingDown = false;

  constructor(overall: ServingStatus = ServingStatus.SERVING) {
    this.statuses.set("", overall);
  }

  /** Sets a service's status and tells its watchers. Ignored once shutdown() ran, until resume(). */
  setStatus(service: string, status: ServingStatus): void {
    if (this.shuttingDown) return;
    this.update(service, status);
  }

  getStatus(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Every service NOT_SERVING, and later setStatus calls ignored: the server is going away. */
  shutdown(): void {
    for (const service of this.statuses.keys()) this.update(service, ServingStatus.NOT_SERVING);
    this.shuttingDown = true;
  }

  /** Accepts setStatus calls again after shutdown(); statuses stay as they are until set. */
  resume(): void {
    this.shuttingDown = false;
  }

  private update(service: string, status: ServingStatus): void {
    const previous = this.statuses.get(service);
    this.statuses.set(service, status);
    if (previous === status) return;
    const response = create(HealthCheckResponseSchema, { status });
    for (const queue of this.watchers.get(service) ?? []) queue.push(response);
  }

  /** The Health service implementation over this registry. */
  service(): ServiceImpl<typeof Health> {
    return {
      check: async (req) => {
        const status = this.statuses.get(req.service);
        if (status === undefined) throw new GrpcError(Code.NOT_FOUND, `unknown service ${JSON.stringify(req.service)}`);
        return { status };
      },
      list: async () => {
        const statuses: Record<string, HealthCheckResponse> = {};
        for (const [name, status] of this.statuses) statuses[name] = create(HealthCheckResponseSchema, { status });
        return { statuses };
      },
      watch: (req, ctx) => this.watch(req.service, ctx.signal),
    };
  }

  private async *watch(service: string, signal: AbortSignal): AsyncIterable<HealthCheckResponse> {
    // Status changes are rare and each watcher wants all of them, in order.
    const queue = new AsyncQueue<HealthCheckResponse>(Infinity);
    let set = this.watchers.get(service);
    if (set === undefined) this.watchers.set(service, (set = new Set()));
    set.add(queue);
    const stop = () => queue.end();
    signal.addEventListener("abort", stop, { once: true });
    try {
      yield create(HealthCheckResponseSchema, { status: this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN });
      yield* queue;
    } finally {
      signal.removeEventListener("abort", stop);
      set.delete(queue);
      if (set.size === 0) this.watchers.delete(service);
    }
  }
}

/**
 * Serves grpc.health.v1.Health on `server` (one line to enable) and turns every
 * status NOT_SERVING when the server starts shutting down. Returns the registry to
 * set statuses on; "" (the whole server) starts SERVING.
 */
export function addHealthService(server: Server, registry = new HealthRegistry()): HealthRegistry {
  server.add(Health, registry.service());
  server.onShutdown(() => registry.shutdown());
  return registry;
}
