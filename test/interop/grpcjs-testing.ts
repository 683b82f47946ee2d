/**
 * grpc.testing as @grpc/grpc-js sees it: interop/proto/grpc/testing/test.proto loaded
 * with @grpc/proto-loader (field names as in the .proto, bytes as Buffer, enums as
 * numbers, defaults filled in on received messages). grpc-js is untyped over loaded
 * protos; the casts to the Js* shapes live only here.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { fileURLToPath } from "node:url";

export { grpc };

const protoRoot = fileURLToPath(new URL("../../interop/proto", import.meta.url));
const packageDefinition = protoLoader.loadSync("grpc/testing/test.proto", {
  includeDirs: [protoRoot],
  keepCase: true,
  longs: Number,
  enums: Number,
  defaults: true,
});
const loaded = grpc.loadPackageDefinition(packageDefinition) as unknown as {
  grpc: { testing: { TestService: grpc.ServiceClientConstructor; UnimplementedService: grpc.ServiceClientConstructor } };
};

export const jsTestServiceDefinition: grpc.ServiceDefinition = loaded.grpc.testing.TestService.service;

/** grpc.testing messages. Message-typed fields of received messages are null when absent. */
export type JsEmpty = Record<string, never>;
export interface JsPayload { type?: number; body: Buffer | Uint8Array }
export interface JsBoolValue { value: boolean }
export interface JsEchoStatus { code: number; message: string }
export interface JsSimpleRequest {
  response_type?: number;
  response_size?: number;
  payload?: JsPayload | null;
  response_compressed?: JsBoolValue | null;
  response_status?: JsEchoStatus | null;
  expect_compressed?: JsBoolValue | null;
}
export interface JsSimpleResponse { payload: JsPayload | null }
export interface JsStreamingInputCallRequest { payload?: JsPayload | null; expect_compressed?: JsBoolValue | null }
export interface JsStreamingInputCallResponse { aggregated_payload_size: number }
export interface JsResponseParameters { size: number; interval_us?: number; compressed?: JsBoolValue | null }
export interface JsStreamingOutputCallRequest {
  response_type?: number;
  response_parameters?: JsResponseParameters[];
  payload?: JsPayload | null;
  response_status?: JsEchoStatus | null;
}
export interface JsStreamingOutputCallResponse { payload: JsPayload | null }

export interface JsTestServiceClient extends grpc.Client {
  emptyCall(request: JsEmpty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<JsEmpty>): grpc.ClientUnaryCall;
  unaryCall(request: JsSimpleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<JsSimpleResponse>): grpc.ClientUnaryCall;
  streamingOutputCall(request: JsStreamingOutputCallRequest, metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientReadableStream<JsStreamingOutputCallResponse>;
  streamingInputCall(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<JsStreamingInputCallResponse>): grpc.ClientWritableStream<JsStreamingInputCallRequest>;
  fullDuplexCall(metadata: grpc.Metadata, options: grpc.CallOptions): grpc.ClientDuplexStream<JsStreamingOutputCallRequest, JsStreamingOutputCallResponse>;
  unimplementedCall(request: JsEmpty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<JsEmpty>): grpc.ClientUnaryCall;
}

export interface JsUnimplementedServiceClient extends grpc.Client {
  unimplementedCall(request: JsEmpty, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<JsEmpty>): grpc.ClientUnaryCall;
}

export function newJsTestServiceClient(target: string, creds: grpc.ChannelCredentials, options: grpc.ClientOptions): JsTestServiceClient {
  return new loaded.grpc.testing.TestService(target, creds, options) as unknown as JsTestServiceClient;
}

export function newJsUnimplementedServiceClient(target: string, creds: grpc.ChannelCredentials, options: grpc.ClientOptions): JsUnimplementedServiceClient {
  return new loaded.grpc.testing.UnimplementedService(target, creds, options) as unknown as JsUnimplementedServiceClient;
}

/** The TestService handlers a grpc-js server takes (UnimplementedCall deliberately absent). */
export interface JsTestServiceImpl extends grpc.UntypedServiceImplementation {
  emptyCall: grpc.handleUnaryCall<JsEmpty, JsEmpty>;
  unaryCall: grpc.handleUnaryCall<JsSimpleRequest, JsSimpleResponse>;
  cacheableUnaryCall: grpc.handleUnaryCall<JsSimpleRequest, JsSimpleResponse>;
  streamingOutputCall: grpc.handleServerStreamingCall<JsStreamingOutputCallRequest, JsStreamingOutputCallResponse>;
  streamingInputCall: grpc.handleClientStreamingCall<JsStreamingInputCallRequest, JsStreamingInputCallResponse>;
  fullDuplexCall: grpc.handleBidiStreamingCall<JsStreamingOutputCallRequest, JsStreamingOutputCallResponse>;
  halfDuplexCall: grpc.handleBidiStreamingCall<JsStreamingOutputCallRequest, JsStreamingOutputCallResponse>;
}
