/**
 * Bearer-token authentication for servers: checks `authorization: Bearer <token>`
 * before the handler runs. The client side is `credentials.bearerToken` (call
 * credentials), which also keeps the token off cleartext connections.
 */
import { Code, GrpcError } from "../protocol/status.js";
import type { HandlerContext } from "../server/handler.js";
import type { ServerInterceptor } from "../server/interceptor.js";

export interface BearerAuthOptions {
  /**
   * Whether `token` may make this call (`ctx.method` says which). May be async, e.g.
   * a lookup. What it throws fails the call as a handler's error would (a GrpcError
   * with its status, anything else UNKNOWN and ServerOptions.onHandlerError).
   */
  isAllowed(token: string, ctx: HandlerContext): boolean | Promise<boolean>;
}

/** `Bearer` (any case, RFC 7235 §2.1), one space, then a b64token (RFC 6750 §2.1). */
const bearerHeader = /^bearer ([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * Refuses calls without exactly one well-formed bearer `authorization` header with
 * UNAUTHENTICATED, and calls whose token `isAllowed` rejects with PERMISSION_DENIED.
 * Either way the handler never runs and the request messages are never read.
 */
export function bearerAuthInterceptor(options: BearerAuthOptions): ServerInterceptor {
  return (next) => async (req) => {
    const values = req.ctx.requestMetadata.getAll("authorization");
    if (values.length === 0) throw new GrpcError(Code.UNAUTHENTICATED, "missing authorization header");
    const match = values.length === 1 && typeof values[0] === "string" ? bearerHeader.exec(values[0]) : null;
    if (match === null) throw new GrpcError(Code.UNAUTHENTICATED, "malformed authorization header: expected one \"Bearer <token>\"");
    if (!(await options.isAllowed(match[1]!, req.ctx))) throw new GrpcError(Code.PERMISSION_DENIED, `the token may not call ${req.ctx.method.parent.typeName}/${req.ctx.method.name}`);
    return next(req);
  };
}
