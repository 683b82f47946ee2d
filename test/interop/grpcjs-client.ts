/**
 * The interop cases run by a @grpc/grpc-js client, the independent peer for the interop
 * runner: `node --import tsx test/interop/grpcjs-client.ts <interop client flags>`. Same
 * flags, case names and output lines (`PASS`/`FAIL`/`SKIP <case>`) as interop/client.ts;
 * each case asserts what the interop descriptions require, through grpc-js's own API.
 * Cases grpc-js cannot assert print SKIP with the reason (grpcjs-limits.ts).
 */
import assert from "node:assert/strict";
import { expectEqual, expectZeroPayload, zeros } from "../../interop/assertions.js";
import { selectCases, type InteropCaseName } from "../../interop/case-names.js";
import { clientFlagSpec, serverTarget, soakSettings, trustedCa, type ClientFlags, type SoakSettings } from "../../interop/client-flags.js";
import { FlagError, describeFlags, parseFlagsOrExit } from "../../interop/flags.js";
import { failureReason, formatCaseResult, type CaseOutcome } from "../../interop/results.js";
import { runSoak } from "../../interop/soak.js";
import { echoInitialKey, echoTrailingKey } from "../../interop/test-service.js";
import { grpcJsCannotRun, isGrpcJsClientCase, type GrpcJsClientCase } from "./grpcjs-limits.js";
import {
  grpc,
  newJsTestServiceClient,
  newJsUnimplementedServiceClient,
  type JsEmpty,
  type JsSimpleRequest,
  type JsSimpleResponse,
  type JsStreamingInputCallRequest,
  type JsStreamingInputCallResponse,
  type JsStreamingOutputCallRequest,
  type JsTestServiceClient,
  type JsUnimplementedServiceClient,
} from "./grpcjs-testing.js";

const usage = "node --import tsx test/interop/grpcjs-client.ts";
const flags = parseFlagsOrExit(clientFlagSpec, process.argv.slice(2), usage);
let names: InteropCaseName[];
try {
  names = selectCases(flags.test_case);
} catch (err) {
  if (!(err instanceof FlagError)) throw err;
  console.error(`${err.message}\n\nusage: ${usage} [flags]\n${describeFlags(clientFlagSpec)}`);
  process.exit(2);
}

const caseTimeLimitMs = 30_000;
/** grpc-js reads write flags from a stream write's encoding argument (call.js _write: Number(encoding)); 2 is WriteFlags.NoCompress. */
const noCompress = "2" as BufferEncoding;
/** grpc-js CompressionAlgorithms: 0 identity, 1 deflate, 2 gzip. */
const gzipAlgorithm = 2;

interface JsCaseContext {
  readonly client: JsTestServiceClient;
  /** A client whose channel compresses requests with gzip (grpc-js has no per-call setting). */
  readonly gzipClient: JsTestServiceClient;
  readonly unimplementedService: JsUnimplementedServiceClient;
  /** A client on a new channel of its own (channel_soak); the caller closes it. */
  newClient(): JsTestServiceClient;
  readonly soak: SoakSettings;
}

/** How a grpc-js call ended: its status, response headers and (unary) response. */
interface JsOutcome<T> {
  readonly status: grpc.StatusObject;
  readonly header: grpc.Metadata | undefined;
  readonly response: T | undefined;
}

/** Runs a grpc-js unary or client-streaming call to its status. */
function settle<T>(start: (callback: grpc.requestCallback<T>) => grpc.ClientUnaryCall | grpc.ClientWritableStream<unknown>): Promise<JsOutcome<T>> {
  return new Promise((resolve) => {
    let response: T | undefined;
    let header: grpc.Metadata | undefined;
    const call = start((err, value) => {
      if (err === null) response = value;
    });
    call.on("metadata", (md: grpc.Metadata) => (header = md));
    call.on("status", (status: grpc.StatusObject) => resolve({ status, header, response }));
  });
}

/** Reads a grpc-js response stream message by message, then its status. */
class JsResponses<T> {
  header: grpc.Metadata | undefined;
  private readonly messages: T[] = [];
  private status: grpc.StatusObject | undefined;
  private wake: (() => void) | undefined;

  constructor(call: grpc.ClientReadableStream<T> | grpc.ClientDuplexStream<never, T> | grpc.ClientDuplexStream<JsStreamingOutputCallRequest, T>) {
    call.on("metadata", (md: grpc.Metadata) => (this.header = md));
    call.on("data", (message: T) => this.notify(() => this.messages.push(message)));
    call.on("status", (status: grpc.StatusObject) => this.notify(() => (this.status = status)));
    // A non-OK status also comes as an 'error' event; the status event carries it.
    call.on("error", () => undefined);
  }

  /** The next message, or undefined once the call ended without more. */
  async next(): Promise<T | undefined> {
    for (;;) {
      if (this.messages.length > 0) return this.messages.shift();
      if (this.status !== undefined) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** Every remaining message and the status. */
  async all(): Promise<{ messages: T[]; status: grpc.StatusObject }> {
    const messages: T[] = [];
    for (let m = await this.next(); m !== undefined; m = await this.next()) messages.push(m);
    return { messages, status: this.status! };
  }

  private notify(change: () => void): void {
    change();
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function expectOk<T>(outcome: JsOutcome<T>, what: string): T {
  expectStatus(outcome.status, grpc.status.OK, what);
  assert.ok(outcome.response !== undefined && outcome.response !== null, `${what}: no response message`);
  return outcome.response;
}

function expectStatus(status: grpc.StatusObject, code: grpc.status, what: string): void {
  expectEqual(grpc.status[status.code] ?? status.code, grpc.status[code], `${what}: status code (details ${JSON.stringify(status.details)})`);
}

function newMetadata(): grpc.Metadata {
  return new grpc.Metadata();
}

const largeRequest = (extra: Partial<JsSimpleRequest> = {}): JsSimpleRequest => ({ response_size: 314159, payload: { body: zeros(271828) }, ...extra });

const jsCases: Record<GrpcJsClientCase, (ctx: JsCaseContext) => Promise<void>> = {
  async empty_unary({ client }) {
    const response = expectOk(await settle<JsEmpty>((cb) => client.emptyCall({}, newMetadata(), {}, cb)), "EmptyCall");
    expectEqual(typeof response, "object", "response");
  },

  async large_unary({ client }) {
    const response = expectOk(await settle<JsSimpleResponse>((cb) => client.unaryCall(largeRequest(), newMetadata(), {}, cb)), "UnaryCall");
    expectZeroPayload(response.payload, 314159);
  },

  async client_compressed_unary({ client, gzipClient }) {
    const probe = await settle<JsSimpleResponse>((cb) => client.unaryCall(largeRequest({ expect_compressed: { value: true } }), newMetadata(), {}, cb));
    expectStatus(probe.status, grpc.status.INVALID_ARGUMENT, "the uncompressed probe with expect_compressed");
    const compressed = expectOk(
      await settle<JsSimpleResponse>((cb) => gzipClient.unaryCall(largeRequest({ expect_compressed: { value: true } }), newMetadata(), {}, cb)),
      "compressed call",
    );
    expectZeroPayload(compressed.payload, 314159, "compressed call");
    const plain = expectOk(
      await settle<JsSimpleResponse>((cb) => client.unaryCall(largeRequest({ expect_compressed: { value: false } }), newMetadata(), {}, cb)),
      "uncompressed call",
    );
    expectZeroPayload(plain.payload, 314159, "uncompressed call");
  },

  async client_streaming({ client }) {
    const outcome = await settle<JsStreamingInputCallResponse>((cb) => {
      const call = client.streamingInputCall(newMetadata(), {}, cb);
      for (const size of [27182, 8, 1828, 45904]) call.write({ payload: { body: zeros(size) } });
      call.end();
      return call;
    });
    expectEqual(expectOk(outcome, "StreamingInputCall").aggregated_payload_size, 74922, "aggregated_payload_size");
  },

  async client_compressed_streaming({ client, gzipClient }) {
    const probe = await settle<JsStreamingInputCallResponse>((cb) => {
      const call = client.streamingInputCall(newMetadata(), {}, cb);
      call.write({ expect_compressed: { value: true }, payload: { body: zeros(27182) } });
      call.end();
      return call;
    });
    expectStatus(probe.status, grpc.status.INVALID_ARGUMENT, "the uncompressed probe with expect_compressed");
    const outcome = await settle<JsStreamingInputCallResponse>((cb) => {
      const call = gzipClient.streamingInputCall(newMetadata(), {}, cb);
      call.write({ expect_compressed: { value: true }, payload: { body: zeros(27182) } } satisfies JsStreamingInputCallRequest);
      call.write({ expect_compressed: { value: false }, payload: { body: zeros(45904) } } satisfies JsStreamingInputCallRequest, noCompress);
      call.end();
      return call;
    });
    expectEqual(expectOk(outcome, "StreamingInputCall").aggregated_payload_size, 73086, "aggregated_payload_size");
  },

  async server_streaming({ client }) {
    const sizes = [31415, 9, 2653, 58979];
    const call = client.streamingOutputCall({ response_parameters: sizes.map((size) => ({ size })) }, newMetadata(), {});
    const { messages, status } = await new JsResponses(call).all();
    expectStatus(status, grpc.status.OK, "StreamingOutputCall");
    expectEqual(messages.map((m) => m.payload?.body.length), sizes, "response payload sizes, in order");
    messages.forEach((m, i) => expectZeroPayload(m.payload, sizes[i]!, `response ${i}`));
  },

  async ping_pong({ client }) {
    const call = client.fullDuplexCall(newMetadata(), {});
    const responses = new JsResponses(call);
    try {
      for (const [responseSize, requestSize] of [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]] as const) {
        call.write({ response_parameters: [{ size: responseSize }], payload: { body: zeros(requestSize) } });
        const response = await responses.next();
        assert.ok(response !== undefined, `no response to the request asking for ${responseSize} bytes`);
        expectZeroPayload(response.payload, responseSize);
      }
      call.end();
      const { messages, status } = await responses.all();
      expectEqual(messages.length, 0, "responses after the fourth");
      expectStatus(status, grpc.status.OK, "FullDuplexCall");
    } finally {
      call.cancel();
    }
  },

  async empty_stream({ client }) {
    const call = client.fullDuplexCall(newMetadata(), {});
    call.end();
    const { messages, status } = await new JsResponses(call).all();
    expectStatus(status, grpc.status.OK, "FullDuplexCall");
    expectEqual(messages.length, 0, "number of responses");
  },

  async timeout_on_sleeping_server({ client }) {
    const call = client.fullDuplexCall(newMetadata(), { deadline: Date.now() + 1 });
    const responses = new JsResponses(call);
    call.write({ payload: { body: zeros(27182) } });
    const { status } = await responses.all();
    expectStatus(status, grpc.status.DEADLINE_EXCEEDED, "a call with a 1 ms deadline");
  },

  async cancel_after_begin({ client }) {
    const outcome = await settle<JsStreamingInputCallResponse>((cb) => {
      const call = client.streamingInputCall(newMetadata(), {}, cb);
      call.cancel();
      return call;
    });
    expectStatus(outcome.status, grpc.status.CANCELLED, "a call cancelled right after it started");
  },

  async cancel_after_first_response({ client }) {
    const call = client.fullDuplexCall(newMetadata(), {});
    const responses = new JsResponses(call);
    call.write({ response_parameters: [{ size: 31415 }], payload: { body: zeros(27182) } });
    const first = await responses.next();
    assert.ok(first !== undefined, "no first response");
    expectZeroPayload(first.payload, 31415);
    call.cancel();
    const { status } = await responses.all();
    expectStatus(status, grpc.status.CANCELLED, "the call cancelled after its first response");
  },

  async status_code_and_message({ client }) {
    const responseStatus = { code: 2, message: "test status message" };
    const unary = await settle<JsSimpleResponse>((cb) => client.unaryCall({ response_status: responseStatus }, newMetadata(), {}, cb));
    expectStatus(unary.status, grpc.status.UNKNOWN, "UnaryCall");
    expectEqual(unary.status.details, responseStatus.message, "UnaryCall status message");
    const call = client.fullDuplexCall(newMetadata(), {});
    const responses = new JsResponses(call);
    call.write({ response_status: responseStatus });
    call.end();
    const { status } = await responses.all();
    expectStatus(status, grpc.status.UNKNOWN, "FullDuplexCall");
    expectEqual(status.details, responseStatus.message, "FullDuplexCall status message");
  },

  async special_status_message({ client }) {
    const responseStatus = { code: 2, message: "\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \u{1F608}\t\n" };
    const unary = await settle<JsSimpleResponse>((cb) => client.unaryCall({ response_status: responseStatus }, newMetadata(), {}, cb));
    expectStatus(unary.status, grpc.status.UNKNOWN, "UnaryCall");
    expectEqual(unary.status.details, responseStatus.message, "status message, every whitespace character included");
  },

  async custom_metadata({ client }) {
    const initialValue = "test_initial_metadata_value";
    const trailingValue = Buffer.from([0xab, 0xab, 0xab]);
    const metadata = () => {
      const md = new grpc.Metadata();
      md.set(echoInitialKey, initialValue);
      md.set(echoTrailingKey, trailingValue);
      return md;
    };
    const checkEcho = (step: string, header: grpc.Metadata | undefined, trailer: grpc.Metadata) => {
      expectEqual(header?.get(echoInitialKey), [initialValue], `${step}: ${echoInitialKey} in the initial metadata`);
      expectEqual(trailer.get(echoTrailingKey).map((v) => (typeof v === "string" ? v : Array.from(v))), [Array.from(trailingValue)], `${step}: ${echoTrailingKey} in the trailing metadata`);
    };

    const unary = await settle<JsSimpleResponse>((cb) => client.unaryCall(largeRequest(), metadata(), {}, cb));
    expectZeroPayload(expectOk(unary, "UnaryCall").payload, 314159, "UnaryCall");
    checkEcho("UnaryCall", unary.header, unary.status.metadata);

    const call = client.fullDuplexCall(metadata(), {});
    const responses = new JsResponses(call);
    call.write({ response_parameters: [{ size: 314159 }], payload: { body: zeros(271828) } });
    call.end();
    const { messages, status } = await responses.all();
    expectStatus(status, grpc.status.OK, "FullDuplexCall");
    expectEqual(messages.map((m) => m.payload?.body.length), [314159], "FullDuplexCall response sizes");
    checkEcho("FullDuplexCall", responses.header, status.metadata);
  },

  async unimplemented_method({ client }) {
    const outcome = await settle<JsEmpty>((cb) => client.unimplementedCall({}, newMetadata(), {}, cb));
    expectStatus(outcome.status, grpc.status.UNIMPLEMENTED, "TestService/UnimplementedCall");
  },

  async unimplemented_service({ unimplementedService }) {
    const outcome = await settle<JsEmpty>((cb) => unimplementedService.unimplementedCall({}, newMetadata(), {}, cb));
    expectStatus(outcome.status, grpc.status.UNIMPLEMENTED, "UnimplementedService/UnimplementedCall");
  },

  async rpc_soak({ client, soak }) {
    await runSoak(soak, async (_index, timeoutMs) => {
      await soakCall(client, soak, timeoutMs);
    });
  },

  async channel_soak({ newClient, soak }) {
    await runSoak(soak, async (_index, timeoutMs) => {
      const client = newClient();
      try {
        await soakCall(client, soak, timeoutMs);
      } finally {
        client.close();
      }
    });
  },
};

async function soakCall(client: JsTestServiceClient, soak: SoakSettings, timeoutMs: number): Promise<void> {
  const request = { response_size: soak.responseSize, payload: { body: zeros(soak.requestSize) } };
  const outcome = await settle<JsSimpleResponse>((cb) => client.unaryCall(request, newMetadata(), { deadline: Date.now() + timeoutMs }, cb));
  expectEqual(expectOk(outcome, "UnaryCall").payload?.body.length, soak.responseSize, "response payload size");
}

function channelSettings(flags: ClientFlags): { creds: grpc.ChannelCredentials; options: grpc.ClientOptions } {
  const options: grpc.ClientOptions = {};
  if (flags.server_host_override !== "") {
    options["grpc.ssl_target_name_override"] = flags.server_host_override;
    options["grpc.default_authority"] = flags.server_host_override;
  }
  const creds = flags.use_tls ? grpc.credentials.createSsl(trustedCa(flags) ?? null) : grpc.credentials.createInsecure();
  return { creds, options };
}

async function runCase(name: InteropCaseName, ctx: JsCaseContext): Promise<CaseOutcome> {
  if (!isGrpcJsClientCase(name)) return { kind: "skip", reason: grpcJsCannotRun("client", name) ?? "" };
  const limitMs = name.endsWith("_soak") ? ctx.soak.overallTimeoutMs + caseTimeLimitMs : caseTimeLimitMs;
  let timer: NodeJS.Timeout | undefined;
  const timeLimit = new Promise<CaseOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ kind: "fail", reason: `still running after ${limitMs} ms` }), limitMs);
  });
  const run = jsCases[name](ctx).then(
    (): CaseOutcome => ({ kind: "pass" }),
    (err: unknown): CaseOutcome => ({ kind: "fail", reason: failureReason(err) }),
  );
  try {
    return await Promise.race([run, timeLimit]);
  } finally {
    clearTimeout(timer);
  }
}

const target = serverTarget(flags);
const { creds, options } = channelSettings(flags);
const ctx: JsCaseContext = {
  client: newJsTestServiceClient(target, creds, options),
  gzipClient: newJsTestServiceClient(target, creds, { ...options, "grpc.default_compression_algorithm": gzipAlgorithm }),
  unimplementedService: newJsUnimplementedServiceClient(target, creds, options),
  // A local subchannel pool, so each of these channels makes a connection of its own.
  newClient: () => newJsTestServiceClient(target, creds, { ...options, "grpc.use_local_subchannel_pool": 1 }),
  soak: soakSettings(flags),
};

let failed = 0;
for (const name of names) {
  const outcome = await runCase(name, ctx);
  if (outcome.kind === "fail") failed++;
  console.log(formatCaseResult({ name, outcome }));
}
ctx.client.close();
ctx.gzipClient.close();
ctx.unimplementedService.close();
process.exit(failed === 0 ? 0 : 1);
