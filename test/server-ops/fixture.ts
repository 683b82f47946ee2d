/**
 * The server the server-ops tests play against: a grpc-ts Server on our h2 transport
 * (connection management lives there) with the Echo service, recording what its
 * handlers saw: the peer of each call (one address per connection) and the status of
 * calls that were cancelled under them. Raw requests for the frame-level client too.
 */
import { create, toBinary, type MessageInitShape } from "@bufbuild/protobuf";
import { setTimeout as sleep } from "node:timers/promises";
import { Code, GrpcError, Server, createChannel, createClient, type Channel, type ChannelOptions, type Client, type ServerOptions, type ServiceImpl } from "../../src/index.js";
import { encodeFrame } from "../../src/protocol/frame.js";
import { Echo, EchoRequestSchema } from "../gen/echo_pb.js";
import { echoService } from "../helpers/server.js";
import { requestHeaders } from "../h2-conformance/frame-client.js";

export interface OpsServer {
  readonly server: Server;
  readonly port: number;
  readonly target: string;
  /** Peer address of every call handled, in order: a new port means a new connection. */
  readonly peers: string[];
  /** The code each cancelled handler saw on its signal. */
  readonly cancelled: Code[];
  /** Resolves when the next handler starts. */
  nextCall(): Promise<void>;
  /** A channel on our h2 transport to this server, closed by close(). */
  channel(options?: ChannelOptions): { channel: Channel; client: Client<typeof Echo> };
  close(): Promise<void>;
}

/** Starts the server on 127.0.0.1:0; timers may go as low as 1 ms (testOnlyMinTimeMs). */
export async function startOpsServer(options: ServerOptions = {}): Promise<OpsServer> {
  const peers: string[] = [];
  const cancelled: Code[] = [];
  let callStarted: (() => void) | undefined;
  const channels: Channel[] = [];
  const impl: ServiceImpl<typeof Echo> = {
    ...echoService,
    async unary(req, ctx) {
      peers.push(ctx.peer.address);
      callStarted?.();
      if (req.delayMs > 0) {
        try {
          await sleep(req.delayMs, undefined, { signal: ctx.signal });
        } catch {
          const reason: unknown = ctx.signal.reason;
          cancelled.push(reason instanceof GrpcError ? reason.code : Code.UNKNOWN);
          throw reason;
        }
      }
      return { message: req.message, payload: req.payload };
    },
  };
  const server = new Server({ transport: "h2", testOnlyMinTimeMs: 1, ...options });
  server.add(Echo, impl);
  const address = await server.listen("127.0.0.1:0");
  if (!("port" in address)) throw new Error("expected a TCP address");
  const target = `127.0.0.1:${address.port}`;
  return {
    server,
    port: address.port,
    target,
    peers,
    cancelled,
    nextCall: () => new Promise<void>((resolve) => (callStarted = resolve)),
    channel(channelOptions = {}) {
      const channel = createChannel(target, undefined, { transport: "h2", ...channelOptions });
      channels.push(channel);
      return { channel, client: createClient(Echo, channel) };
    },
    async close() {
      for (const channel of channels) channel.close();
      server.forceShutdown();
      await server.shutdown({ graceMs: 0 });
    },
  };
}

/** The :path of an Echo method, for raw requests. */
export const unaryPath = `/${Echo.typeName}/${Echo.method.unary.name}`;

/** A gRPC request header block for `path`, as the frame client sends it. */
export const grpcRequestHeaders = (path = unaryPath) => requestHeaders(path);

/** One EchoRequest in a 5-byte gRPC message frame. */
export function echoRequestBody(req: MessageInitShape<typeof EchoRequestSchema>): Uint8Array {
  return encodeFrame(toBinary(EchoRequestSchema, create(EchoRequestSchema, req)));
}
