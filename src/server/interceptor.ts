/**
 * Server interceptors: functions from `next` to `next`, composed once per method.
 * A request carries the decoded message (unary requests) or an async iterable of
 * them (streaming requests); a response likewise. Interceptors may read and change
 * metadata through the context, wrap the message streams to see every message, and
 * stop a call by throwing a GrpcError.
 */
import type { DescMessage, DescMethod, MessageShape } from "@bufbuild/protobuf";
import type { HandlerContext, ResponseInit } from "./handler.js";

export type ServerRequest =
  | { readonly stream: false; readonly method: DescMethod; readonly ctx: HandlerContext; readonly message: MessageShape<DescMessage> }
  | { readonly stream: true; readonly method: DescMethod; readonly ctx: HandlerContext; readonly message: AsyncIterable<MessageShape<DescMessage>> };

export type ServerResponse =
  | { readonly stream: false; readonly message: ResponseInit<DescMessage> }
  | { readonly stream: true; readonly message: AsyncIterable<ResponseInit<DescMessage>> };

export type ServerNext = (request: ServerRequest) => Promise<ServerResponse>;
export type ServerInterceptor = (next: ServerNext) => ServerNext;

/** Composes interceptors; the first one listed runs first (outermost). */
export function composeServerInterceptors(interceptors: readonly ServerInterceptor[], last: ServerNext): ServerNext {
  let next = last;
  for (let i = interceptors.length - 1; i >= 0; i--) next = interceptors[i]!(next);
  return next;
}
