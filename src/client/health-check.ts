/**
 * Client-side health checking (gRFC A17): on each connected subchannel, a
 * grpc.health.v1.Health/Watch stream for the service config's healthCheckConfig
 * serviceName. The subchannel is offered to the balancer only while the backend says
 * SERVING. A backend that does not implement Watch (UNIMPLEMENTED) counts as healthy;
 * any other end of the stream is retried with backoff while the connection lives.
 * Speaks the wire directly over the subchannel's transport: no channel, no picker.
 */
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FrameDecoder, encodeFrame } from "../protocol/frame.js";
import type { Headers } from "../protocol/metadata.js";
import { Code } from "../protocol/status.js";
import { Http2ErrorCode, type ClientTransport, type ClientTransportStream } from "../transport/types.js";
import {
  HealthCheckRequestSchema,
  HealthCheckResponseSchema,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../gen/grpc/health/v1/health_pb.js";

export type HealthVerdict = "healthy" | "unhealthy";

export interface HealthCheckOptions {
  readonly serviceName: string;
  readonly authority: string;
  readonly secure: boolean;
  readonly userAgent: string;
}

const watchPath = "/grpc.health.v1.Health/Watch";
const maxResponseBytes = 64 * 1024;
const retryDelaysMs = [1_000, 2_000, 5_000, 10_000, 30_000];

/** Watches one connection's backend; `onVerdict` fires on every change. Stop with `close()`. */
export class HealthWatcher {
  private stream: ClientTransportStream | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private failures = 0;
  private verdict: HealthVerdict | undefined;

  constructor(
    private readonly transport: ClientTransport,
    private readonly options: HealthCheckOptions,
    private readonly onVerdict: (verdict: HealthVerdict, reason: string) => void,
  ) {
    this.start();
  }

  private report(verdict: HealthVerdict, reason: string): void {
    if (this.closed || verdict === this.verdict) return;
    this.verdict = verdict;
    this.onVerdict(verdict, reason);
  }

  private start(): void {
    if (this.closed || !this.transport.usable) return;
    const headers: Headers = {
      ":method": "POST",
      ":scheme": this.options.secure ? "https" : "http",
      ":path": watchPath,
      ":authority": this.options.authority,
      "content-type": "application/grpc",
      te: "trailers",
      "user-agent": this.options.userAgent,
    };
    let gotMessage = false;
    const decoder = new FrameDecoder({
      onFrame: (_flags, bytes, start, end) => {
        let status: ServingStatus;
        try {
          status = fromBinary(HealthCheckResponseSchema, bytes.subarray(start, end)).status;
        } catch {
          return;
        }
        gotMessage = true;
        this.failures = 0;
        this.report(status === ServingStatus.SERVING ? "healthy" : "unhealthy", `health status ${ServingStatus[status] ?? status}`);
      },
      onFrameTooLarge: () => this.stream?.reset(Http2ErrorCode.CANCEL),
    }, maxResponseBytes);
    const onEnd = (grpcStatus: string | undefined) => {
      this.stream = undefined;
      if (this.closed) return;
      if (grpcStatus === String(Code.UNIMPLEMENTED)) {
        // A17: the backend has no health service; do not hold it back.
        this.report("healthy", "the backend does not implement grpc.health.v1.Health/Watch");
        return;
      }
      if (!gotMessage) this.report("unhealthy", `health watch ended (grpc-status ${grpcStatus ?? "none"})`);
      const delay = retryDelaysMs[Math.min(this.failures++, retryDelaysMs.length - 1)]!;
      this.timer = setTimeout(() => this.start(), delay);
      this.timer.unref?.();
    };
    let ended = false;
    const finish = (grpcStatus: string | undefined) => {
      if (ended) return;
      ended = true;
      onEnd(grpcStatus);
    };
    try {
      this.stream = this.transport.request(headers, {
        onHeaders: (h, endStream) => {
          if (endStream) finish(typeof h["grpc-status"] === "string" ? h["grpc-status"] : undefined);
        },
        onData: (chunk) => decoder.push(chunk),
        onTrailers: (t) => finish(typeof t["grpc-status"] === "string" ? t["grpc-status"] : undefined),
        onClose: () => finish(undefined),
        onDrain: () => {},
      });
    } catch {
      finish(undefined);
      return;
    }
    this.stream.end(encodeFrame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: this.options.serviceName }))));
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.stream?.reset(Http2ErrorCode.CANCEL);
    this.stream = undefined;
  }
}
