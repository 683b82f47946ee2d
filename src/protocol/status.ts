/**
 * gRPC status codes and the one error class that carries a status.
 * Pure: no I/O, no node: imports. Rich details (google.rpc.Status in
 * grpc-status-details-bin) are encoded and decoded here.
 */
import { create, fromBinary, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { anyIs, anyPack, anyUnpack, type Any } from "@bufbuild/protobuf/wkt";
import { StatusSchema } from "../gen/google/rpc/status_pb.js";
import { Metadata } from "./metadata.js";

/** The status codes of grpc/grpc doc/statuscodes.md, with their wire numbers. */
export enum Code {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

/** Parses a code from its number or its name (any case), as service configs write them. */
export function parseCode(value: unknown): Code | undefined {
  if (typeof value === "number") return Number.isInteger(value) && value >= 0 && value <= 16 ? (value as Code) : undefined;
  if (typeof value !== "string") return undefined;
  const byName = (Code as unknown as Record<string, number | undefined>)[value.toUpperCase()];
  return typeof byName === "number" ? (byName as Code) : undefined;
}

/** A detail to attach to an error: an already packed Any, or a message with its schema. */
export type ErrorDetail<Desc extends DescMessage = DescMessage> =
  | Any
  | { desc: Desc; value: MessageInitShape<Desc> };

export interface GrpcErrorOptions {
  /** Response metadata: on the client, the trailers (or trailers-only headers) of the call. */
  metadata?: Metadata;
  /** google.rpc.Status details, sent as grpc-status-details-bin. */
  details?: readonly ErrorDetail[];
  /** The local cause; never sent to the peer. */
  cause?: unknown;
}

/**
 * A call's failure: code, message, metadata and decoded rich details.
 * Complete when constructed. On the server, throwing one ends the call with that status;
 * on the client, every failed call rejects with one.
 */
export class GrpcError extends Error {
  override readonly name = "GrpcError";
  readonly code: Code;
  /** The status message as sent on the wire (`message` adds the code name in front). */
  readonly rawMessage: string;
  readonly metadata: Metadata;
  readonly details: readonly Any[];

  constructor(code: Code, message: string, opts: GrpcErrorOptions = {}) {
    super(`${Code[code] ?? code}: ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.rawMessage = message;
    this.metadata = opts.metadata ?? new Metadata();
    this.details = opts.details === undefined ? [] : opts.details.map(packDetail);
  }

  /** The details of one type, decoded: `err.findDetails(BadRequestSchema)`. */
  findDetails<Desc extends DescMessage>(desc: Desc): MessageShape<Desc>[] {
    const found: MessageShape<Desc>[] = [];
    for (const any of this.details) {
      if (!anyIs(any, desc)) continue;
      let value: MessageShape<Desc> | undefined;
      try {
        value = anyUnpack(any, desc);
      } catch {
        continue; // a peer's malformed detail is skipped, like undecodable status details
      }
      if (value !== undefined) found.push(value);
    }
    return found;
  }

  /**
   * At a boundary: keep gRPC errors, wrap anything else. The cause stays local
   * for logs; the peer sees only the code and a generic message.
   */
  static from(reason: unknown, fallback: Code = Code.UNKNOWN, message = "unexpected error"): GrpcError {
    if (reason instanceof GrpcError) return reason;
    return new GrpcError(fallback, message, { cause: reason });
  }
}

function packDetail(detail: ErrorDetail): Any {
  if ("desc" in detail) return anyPack(detail.desc, create(detail.desc, detail.value));
  return detail;
}

/** Serializes a google.rpc.Status for the grpc-status-details-bin trailer. */
export function encodeStatusDetails(code: Code, message: string, details: readonly Any[]): Uint8Array {
  return toBinary(StatusSchema, create(StatusSchema, { code, message, details: [...details] }));
}

/**
 * Parses grpc-status-details-bin. Returns undefined for bytes that do not parse:
 * a peer's broken details never hide the status itself.
 */
export function decodeStatusDetails(bytes: Uint8Array): { code: number; message: string; details: Any[] } | undefined {
  try {
    const status = fromBinary(StatusSchema, bytes);
    return { code: status.code, message: status.message, details: status.details };
  } catch {
    return undefined;
  }
}
