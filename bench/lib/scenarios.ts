/**
 * The scenarios of the suite and the subjects each runs against (the targets are in
 * targets.ts). Pure data: run.ts executes it, report.ts renders it.
 */

export type ServerName = "grpc-ts" | "grpc-js" | "connect" | "h2-bare" | "rest";
export type ClientName = "grpc-ts" | "grpc-js" | "h2-bare";
export type CodecName = "bufbuild" | "protobufjs";

export const grpcServers: readonly ServerName[] = ["grpc-ts", "grpc-js", "connect", "h2-bare"];
export const allServers: readonly ServerName[] = [...grpcServers, "rest"];
export const allClients: readonly ClientName[] = ["grpc-ts", "grpc-js", "h2-bare"];

export const serverFiles: Record<ServerName, string> = {
  "grpc-ts": "bench/servers/grpc-ts.ts",
  "grpc-js": "bench/servers/grpc-js.ts",
  connect: "bench/servers/connect.ts",
  "h2-bare": "bench/servers/h2-bare.ts",
  rest: "bench/servers/rest.ts",
};

export const clientFiles: Record<ClientName, string> = {
  "grpc-ts": "bench/clients/grpc-ts.ts",
  "grpc-js": "bench/clients/grpc-js.ts",
  "h2-bare": "bench/clients/h2-bare.ts",
};

export const subjectLabels: Record<string, string> = {
  "server:grpc-ts": "grpc-ts",
  "server:grpc-js": "@grpc/grpc-js",
  "server:connect": "@connectrpc/connect-node",
  "server:h2-bare": "bare node:http2 (ceiling)",
  "server:rest": "REST+JSON on node:http (HTTP/1.1)",
  "client:grpc-ts": "grpc-ts client",
  "client:grpc-js": "@grpc/grpc-js client",
  "client:h2-bare": "bare node:http2 client",
  "codec:bufbuild": "@bufbuild/protobuf",
  "codec:protobufjs": "protobufjs",
};

/**
 * The load client of the ping-pong scenario, the same for every server: "raw", a
 * minimal HTTP/2 client over node:net (clients/raw-h2-pingpong.ts), or "node-http2",
 * the bare node:http2 client (clients/h2-bare.ts), which costs more per message.
 */
export type PingPongClientName = "raw" | "node-http2";
export const pingPongClients: readonly PingPongClientName[] = ["raw", "node-http2"];
export const pingPongClientFiles: Record<PingPongClientName, string> = {
  raw: "bench/clients/raw-h2-pingpong.ts",
  "node-http2": "bench/clients/h2-bare.ts",
};

export type GrpcMethod = "Unary" | "ServerStream" | "ClientStream" | "Bidi";

/** h2load drives the server: one prebuilt request body per call. */
export interface H2loadScenario {
  kind: "h2load";
  id: string;
  title: string;
  method: GrpcMethod;
  /** Payload bytes of each message. */
  size: number;
  /** Messages per call in the streamed direction (1 for unary; bidi: the echoed direction). */
  messagesPerCall: number;
  /** gRPC: streams on one connection; REST: that many HTTP/1.1 connections. */
  concurrency: number;
  servers: readonly ServerName[];
  quick: boolean;
}

/** Our load client (--pingpong-client) runs lockstep bidi streams against each server. */
export interface PingPongScenario {
  kind: "pingpong";
  id: string;
  title: string;
  size: number;
  streams: number;
  servers: readonly ServerName[];
  quick: boolean;
}

/** Our load client opens connections and streams and holds them; the server's memory is read in between. */
export interface MemoryScenario {
  kind: "memory";
  id: string;
  title: string;
  connections: number;
  streams: number;
  /** --quick runs hold fewer, to stay under two minutes; the per-unit figure stays comparable. */
  quick: boolean;
  quickConnections: number;
  quickStreams: number;
  /** What the memory is divided by. */
  per: "connection" | "stream";
  servers: readonly ServerName[];
}

/** A client library in its own process against the grpc-ts server. */
export interface ClientScenario {
  kind: "client";
  id: string;
  title: string;
  job: "unary" | "serverStream" | "clientStream" | "pingpong";
  size: number;
  messagesPerCall: number;
  concurrency: number;
  clients: readonly ClientName[];
  quick: boolean;
}

export interface CodecScenario {
  kind: "codec";
  id: string;
  title: string;
  quick: boolean;
}

export type Scenario = H2loadScenario | PingPongScenario | MemoryScenario | ClientScenario | CodecScenario;

const KiB = 1024;
const sizeLabel = (bytes: number) => (bytes < KiB ? `${bytes}B` : `${bytes / KiB}KiB`);
const unarySizes = [10, KiB, 64 * KiB];

function unaryScenarios(): H2loadScenario[] {
  return unarySizes.flatMap((size) =>
    [1, 100].map((concurrency) => ({
      kind: "h2load" as const,
      id: `server/unary-${sizeLabel(size)}-c${concurrency}`,
      title: `Unary ${sizeLabel(size)}, ${concurrency} concurrent`,
      method: "Unary" as const,
      size,
      messagesPerCall: 1,
      concurrency,
      servers: allServers,
      // c100 for the throughput and CPU targets, c1 for the p50 ones; 64 KiB only in full runs (time).
      quick: size <= KiB,
    })),
  );
}

function clientUnaryScenarios(): ClientScenario[] {
  return unarySizes.flatMap((size) =>
    [1, 100].map((concurrency) => ({
      kind: "client" as const,
      id: `client/unary-${sizeLabel(size)}-c${concurrency}`,
      title: `Client unary ${sizeLabel(size)}, ${concurrency} concurrent`,
      job: "unary" as const,
      size,
      messagesPerCall: 1,
      concurrency,
      clients: allClients,
      quick: size <= KiB,
    })),
  );
}

export const scenarios: readonly Scenario[] = [
  ...unaryScenarios(),
  {
    kind: "h2load", id: "server/server-stream-1000x1KiB", title: "Server streaming 1000 x 1KiB, 10 concurrent calls",
    method: "ServerStream", size: KiB, messagesPerCall: 1000, concurrency: 10, servers: grpcServers, quick: true,
  },
  {
    kind: "h2load", id: "server/client-stream-1000x1KiB", title: "Client streaming 1000 x 1KiB, 10 concurrent calls",
    method: "ClientStream", size: KiB, messagesPerCall: 1000, concurrency: 10, servers: grpcServers, quick: false,
  },
  {
    kind: "h2load", id: "server/bidi-stream-1000x1KiB", title: "Bidi streaming 1000 x 1KiB, each echoed as it arrives, 10 concurrent calls",
    method: "Bidi", size: KiB, messagesPerCall: 1000, concurrency: 10, servers: grpcServers, quick: true,
  },
  {
    kind: "pingpong", id: "server/bidi-pingpong", title: "Bidi ping-pong 10B, 10 lockstep streams (our load client)",
    size: 10, streams: 10, servers: grpcServers, quick: true,
  },
  {
    kind: "memory", id: "server/idle-connections", title: "1,000 idle connections, memory per connection (our load client; --quick: 200)",
    connections: 1000, streams: 0, quickConnections: 200, quickStreams: 0, per: "connection", servers: grpcServers, quick: true,
  },
  {
    kind: "memory", id: "server/open-streams", title: "10,000 open streams over 10 connections, memory per stream (our load client; --quick: 2,000)",
    connections: 10, streams: 10_000, quickConnections: 10, quickStreams: 2000, per: "stream", servers: grpcServers, quick: true,
  },
  ...clientUnaryScenarios(),
  {
    kind: "client", id: "client/server-stream-1000x1KiB", title: "Client: server streaming 1000 x 1KiB, 10 concurrent calls",
    job: "serverStream", size: KiB, messagesPerCall: 1000, concurrency: 10, clients: allClients, quick: false,
  },
  {
    kind: "client", id: "client/client-stream-1000x1KiB", title: "Client: client streaming 1000 x 1KiB, 10 concurrent calls",
    job: "clientStream", size: KiB, messagesPerCall: 1000, concurrency: 10, clients: allClients, quick: false,
  },
  {
    kind: "client", id: "client/bidi-pingpong", title: "Client: bidi ping-pong 10B, 10 lockstep streams",
    job: "pingpong", size: 10, messagesPerCall: 1, concurrency: 10, clients: allClients, quick: false,
  },
  { kind: "codec", id: "codec/protobuf-order", title: "Protobuf encode/decode of a 20-field message", quick: true },
];

/** Scenarios selected by --only patterns: an id, a prefix ending in "*", or a side ("server", "client", "codec"). */
export function selectScenarios(patterns: readonly string[] | undefined, quick: boolean): Scenario[] {
  if (patterns === undefined) return scenarios.filter((s) => !quick || s.quick);
  const selected = scenarios.filter((s) =>
    patterns.some((p) => (p.endsWith("*") ? s.id.startsWith(p.slice(0, -1)) : s.id === p || s.id.startsWith(`${p}/`))),
  );
  const unknown = patterns.filter((p) => !scenarios.some((s) => (p.endsWith("*") ? s.id.startsWith(p.slice(0, -1)) : s.id === p || s.id.startsWith(`${p}/`))));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(", ")}; known:\n  ${scenarios.map((s) => s.id).join("\n  ")}`);
  return selected;
}
