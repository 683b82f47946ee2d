/**
 * Client interceptors: functions from `next` to `next`, composed once per client.
 * A request carries its metadata and the message (unary requests) or an async
 * iterable of them (streaming requests); a response carries header, message(s)
 * and trailer metadata. Throwing a GrpcError stops the call with that status.
 */
import type { DescMessage, DescMethod, MessageShape } from "@bufbuild/protobuf";
import type { Metadata } from "../protocol/metadata.js";
import type { CallOptions } from "./call-options.js";

interface RequestCommon {
  readonly method: DescMethod;
  /** Request metadata; interceptors may change it. */
  readonly metadata: Metadata;
  /** The call's options (deadline, signal, compression…), as given by the caller. */
  readonly options: CallOptions;
}

export type ClientRequest = RequestCommon & (
  | { readonly stream: false; readonly message: MessageShape<DescMessage> }
  | { readonly stream: true; readonly message: AsyncIterable<MessageShape<DescMessage>> }
);

interface ResponseCommon {
  /** Response headers. */
  readonly header: Metadata;
  /** Response trailers: complete once the message (or the last of the stream) has been received. */
  readonly trailer: Metadata;
}

export type ClientResponse = ResponseCommon & (
  | { readonly stream: false; readonly message: MessageShape<DescMessage> }
  | { readonly stream: true; readonly message: AsyncIterable<MessageShape<DescMessage>> }
);

export type ClientNext = (request: ClientRequest) => Promise<ClientResponse>;
export type ClientInterceptor = (next: ClientNext) => ClientNext;

/** Composes interceptors; the first one listed runs first (outermost). */
export function composeClientInterceptors(interceptors: readonly ClientInterceptor[], last: ClientNext): ClientNext {
  let next = last;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
  return next;
}
