/**
 * Logging interceptors, client and server side: one line per finished call with the
 * method, the status code and the duration. They only observe; they never change a
 * call's metadata, messages or status.
 */
import { Code, GrpcError } from "../protocol/status.js";
import type { ClientInterceptor } from "../client/interceptor.js";
import type { ServerInterceptor } from "../server/interceptor.js";

/** The facts of one finished call, as logged. */
export interface CallLogRecord {
  readonly side: "client" | "server";
  /** "/package.Service/Method" */
  readonly method: string;
  readonly code: Code;
  /** The status message; empty for OK. */
  readonly message: string;
  /** From the start of the call (before any other interceptor further in) to its status. */
  readonly durationMs: number;
  /** Server side: the client's address ("ipv4:127.0.0.1:5000", "unix:…"). */
  readonly peer?: string;
}

export interface LoggingOptions {
  /** Receives one line per finished call and the same facts as a record. Default: console.log of the line. */
  log?: (line: string, record: CallLogRecord) => void;
}

/** Formats a record as `server /pkg.Svc/Method OK 1.2ms peer=…`, then the message for a failure. */
export function formatCallLogLine(record: CallLogRecord): string {
  let line = `${record.side} ${record.method} ${Code[record.code]} ${record.durationMs.toFixed(1)}ms`;
  if (record.peer !== undefined) line += ` peer=${record.peer}`;
  if (record.message !== "") line += ` ${JSON.stringify(record.message)}`;
  return line;
}

/**
 * Logs every call the server runs. A streamed response is logged when its stream
 * ends; a call cancelled while it runs (client gone, deadline, shutdown) is logged
 * with the cancellation's code. A unary call is logged when its handler returns,
 * with the status the handler produced.
 */
export function serverLoggingInterceptor(options: LoggingOptions = {}): ServerInterceptor {
  const log = options.log ?? defaultLog;
  return (next) => async (req) => {
    const start = performance.now();
    const method = `/${req.method.parent.typeName}/${req.method.name}`;
    const peer = req.ctx.peer.address;
    const signal = req.ctx.signal;
    const finish = (error: unknown) => {
      const { code, message } = statusOf(error, signal);
      const record: CallLogRecord = { side: "server", method, code, message, durationMs: performance.now() - start, peer };
      log(formatCallLogLine(record), record);
    };
    let res;
    try {
      res = await next(req);
    } catch (err) {
      finish(err);
      throw err;
    }
    if (!res.stream) {
      finish(undefined);
      return res;
    }
    return { stream: true, message: observeEnd(res.message, finish, signal) };
  };
}

/**
 * Logs every call made on a channel. A streamed response is logged when the stream
 * ends, or as CANCELLED when its consumer stops reading early.
 */
export function clientLoggingInterceptor(options: LoggingOptions = {}): ClientInterceptor {
  const log = options.log ?? defaultLog;
  return (next) => async (req) => {
    const start = performance.now();
    const method = `/${req.method.parent.typeName}/${req.method.name}`;
    const finish = (error: unknown) => {
      const { code, message } = statusOf(error, undefined);
      const record: CallLogRecord = { side: "client", method, code, message, durationMs: performance.now() - start };
      log(formatCallLogLine(record), record);
    };
    let res;
    try {
      res = await next(req);
    } catch (err) {
      finish(err);
      throw err;
    }
    if (!res.stream) {
      finish(undefined);
      return res;
    }
    return { ...res, message: observeEnd(res.message, finish, undefined) };
  };
}

/** Passes every message through and reports how the stream ended, exactly once. */
async function* observeEnd<T>(messages: AsyncIterable<T>, finish: (error: unknown) => void, signal: AbortSignal | undefined): AsyncIterable<T> {
  let ended = false;
  try {
    yield* messages;
    ended = true;
    finish(undefined);
  } catch (err) {
    ended = true;
    finish(err);
    throw err;
  } finally {
    // The consumer stopped early: the call was cancelled (on the server, by whatever aborted it).
    if (!ended) finish(signal?.reason ?? new GrpcError(Code.CANCELLED, "the response stream was abandoned"));
  }
}

/**
 * The status a call ended with. On the server, an aborted call counts as its abort
 * (CANCELLED, DEADLINE_EXCEEDED) when the handler then failed with a plain error or
 * returned anyway: that result never reached the client.
 */
function statusOf(error: unknown, signal: AbortSignal | undefined): { code: Code; message: string } {
  if (error instanceof GrpcError) return { code: error.code, message: error.rawMessage };
  const reason: unknown = signal?.aborted === true ? signal.reason : undefined;
  if (reason instanceof GrpcError) return { code: reason.code, message: reason.rawMessage };
  if (error === undefined) return { code: Code.OK, message: "" };
  return { code: Code.UNKNOWN, message: error instanceof Error ? error.message : String(error) };
}

function defaultLog(line: string): void {
  console.log(line);
}
