/**
 * Test helpers: a grpc-ts server on 127.0.0.1 with a free port, and the Echo test
 * service with its default behaviour (echo, count, delay, fail_code).
 */
import { defaultTransport } from "../../src/transport/default.js";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, Server, createChannel, createClient, credentials, type Channel, type ChannelCredentials, type ChannelOptions, type Client, type ServerCredentials, type ServerOptions, type ServiceImpl } from "../../src/index.js";
import { Echo, type EchoRequest } from "../gen/echo_pb.js";

export interface TestServer {
  readonly server: Server;
  readonly port: number;
  /** "127.0.0.1:<port>" */
  readonly target: string;
  close(): Promise<void>;
}

/**
 * The HTTP/2 implementation the suite runs on: ours by default, node:http2 with
 * GRPC_TS_TRANSPORT=node-http2 (npm test runs the suite both ways).
 */
export const testTransport: "node-http2" | "h2" = defaultTransport();

/** Starts a server on 127.0.0.1:0 after `setup` added its services. */
export async function startServer(setup: (server: Server) => void, options?: ServerOptions, creds?: ServerCredentials): Promise<TestServer> {
  const server = new Server({ transport: testTransport, ...options });
  setup(server);
  const address = await server.listen("127.0.0.1:0", creds);
  if (!("port" in address)) throw new Error("expected a TCP address");
  return {
    server,
    port: address.port,
    target: `127.0.0.1:${address.port}`,
    close: async () => {
      server.forceShutdown();
      await server.shutdown({ graceMs: 0 });
    },
  };
}

function failIfAsked(req: EchoRequest): void {
  if (req.failCode !== 0) throw new GrpcError(req.failCode as Code, req.failMessage);
}

/** The Echo service as most tests want it. */
export const echoService: ServiceImpl<typeof Echo> = {
  async unary(req, ctx) {
    if (req.delayMs > 0) await sleep(req.delayMs, undefined, { signal: ctx.signal }).catch(() => undefined);
    failIfAsked(req);
    return { message: req.message, payload: req.payload };
  },
  async *serverStream(req, ctx) {
    for (let i = 0; i < req.count; i++) {
      if (req.delayMs > 0) await sleep(req.delayMs, undefined, { signal: ctx.signal });
      yield { message: req.message, payload: req.payload, index: i };
    }
    failIfAsked(req);
  },
  async clientStream(reqs) {
    const messages: string[] = [];
    for await (const req of reqs) {
      failIfAsked(req);
      messages.push(req.message);
    }
    return { message: messages.join(","), index: messages.length };
  },
  async *bidi(reqs) {
    let i = 0;
    for await (const req of reqs) {
      failIfAsked(req);
      if (req.delayMs > 0) await sleep(req.delayMs);
      yield { message: req.message, payload: req.payload, index: i++ };
    }
  },
};

/** A server with the Echo service and a client for it; close() ends both. */
export async function startEcho(options?: { server?: ServerOptions; channel?: ChannelOptions; serverCreds?: ServerCredentials; channelCreds?: ChannelCredentials }): Promise<TestServer & { channel: Channel; client: Client<typeof Echo> }> {
  const ts = await startServer((s) => s.add(Echo, echoService), options?.server, options?.serverCreds);
  const channel = createChannel(ts.target, options?.channelCreds ?? credentials.insecure(), { transport: testTransport, ...options?.channel });
  return {
    ...ts,
    channel,
    client: createClient(Echo, channel),
    close: async () => {
      channel.close();
      await ts.close();
    },
  };
}
