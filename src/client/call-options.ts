/**
 * Options of one call, and how they combine with the channel's and a parent
 * handler's (deadline and cancellation propagate from a server handler's context).
 */
import type { Metadata, MetadataValue } from "../protocol/metadata.js";
import type { CallCredentials } from "./credentials.js";

/** What a call inherits from the server handler it is made in: a HandlerContext fits. */
export interface ParentContext {
  readonly deadline: number | undefined;
  readonly signal: AbortSignal;
}

export interface CallOptions {
  /** Relative deadline in milliseconds. */
  timeoutMs?: number;
  /** Absolute deadline (epoch ms or a Date); the earlier of this and `timeoutMs` wins. */
  deadline?: number | Date;
  /** Cancels the call when aborted (CANCELLED, or the reason if it is a GrpcError). */
  signal?: AbortSignal;
  /** Request metadata. */
  metadata?: Metadata | Record<string, MetadataValue | readonly MetadataValue[]>;
  /** Request compression for this call ("gzip", "deflate", "identity"); overrides the channel's. */
  compression?: string;
  /**
   * Per-message control of a streaming request: return false to send that message
   * uncompressed (e.g. to keep secrets out of a compressed stream).
   */
  compressMessage?: (index: number) => boolean;
  /** Response headers, as soon as they arrive. */
  onHeader?: (header: Metadata) => void;
  /** Response trailers, when the call ends (also on failure). */
  onTrailer?: (trailer: Metadata) => void;
  /**
   * Called for each response message as it arrives, before it is delivered, with the
   * compressed flag of its frame (whether the server compressed that message).
   */
  onResponseMessage?: (info: { compressed: boolean }) => void;
  /** The handler context this call is made from: its deadline and cancellation carry over. */
  parent?: ParentContext;
  /** Credentials for this call only (e.g. a per-user token). */
  credentials?: CallCredentials;
  /**
   * Wait for a connection through TRANSIENT_FAILURE (within the deadline) instead of
   * failing fast with UNAVAILABLE. Overrides the service config's waitForReady.
   */
  waitForReady?: boolean;
  /** Largest response message accepted; overrides the channel's. */
  maxReceiveMessageBytes?: number;
}
