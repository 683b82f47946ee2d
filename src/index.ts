/**
 * grpc-ts: gRPC for TypeScript. The public API, listed by name; anything not
 * exported here is internal and free to change.
 */
export { Code, GrpcError, parseCode, type ErrorDetail, type GrpcErrorOptions } from "./protocol/status.js";
export { Metadata, type MetadataValue } from "./protocol/metadata.js";
export { CodecRegistry, type Codec } from "./protocol/compression.js";
export { gzipCodec, deflateCodec, defaultCodecs } from "./compression/zlib.js";

export { Server, type ServerOptions } from "./server/server.js";
export { serveCluster, type ClusterOptions, type ClusterPrimary, type ClusterWorker } from "./server/cluster.js";
export { serverCredentials, type ServerCredentials } from "./server/credentials.js";
export type { ListenAddress } from "./server/listen-address.js";
export type {
  HandlerContext, ServiceImpl, MethodHandler, UnaryHandler, ServerStreamingHandler,
  ClientStreamingHandler, BidiStreamingHandler, ResponseInit,
} from "./server/handler.js";
export type { ServerInterceptor, ServerNext, ServerRequest, ServerResponse } from "./server/interceptor.js";

export { Channel, createChannel, type ChannelOptions } from "./client/channel.js";
export type { ConnectivityState } from "./client/connectivity.js";
export { SubchannelPool } from "./client/subchannel.js";
export {
  registerResolver, createManualResolver,
  type Address, type ManualResolver, type Resolver, type ResolverFactory, type ResolverListener, type ResolverResult, type TargetUri,
} from "./client/resolver/index.js";
export { registerLbPolicy, type LbHelper, type LbPolicy, type LbPolicyFactory, type LbPolicyName, type Picker, type PickResult } from "./client/balancer/index.js";
export { parseServiceConfig, ServiceConfigError, type ServiceConfig, type MethodConfig, type RetryPolicy, type HedgingPolicy } from "./client/config/service-config.js";
export { credentials, type ChannelCredentials, type CallCredentials, type CallCredentialsContext } from "./client/credentials.js";
export {
  createClient, createMethodCaller, type Client, type ClientMethod, type UnaryMethod,
  type ServerStreamingMethod, type ClientStreamingMethod, type BidiStreamingMethod, type DynamicMethod,
} from "./client/client.js";
export type { CallOptions, ParentContext } from "./client/call-options.js";
export type { ClientInterceptor, ClientNext, ClientRequest, ClientResponse } from "./client/interceptor.js";
export type { PeerInfo } from "./transport/types.js";

export { addHealthService, HealthRegistry, ServingStatus } from "./services/health.js";
export { addReflectionService } from "./services/reflection.js";
export { clientLoggingInterceptor, serverLoggingInterceptor, formatCallLogLine, type CallLogRecord, type LoggingOptions } from "./interceptors/logging.js";
export { bearerAuthInterceptor, type BearerAuthOptions } from "./interceptors/bearer-auth.js";
