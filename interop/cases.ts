/**
 * The interop test cases, run by the grpc-ts client. Each asserts at least what
 * grpc/grpc doc/interop-test-descriptions.md has the client assert, on the actual
 * values; a case fails by throwing. Cases share one channel, except channel_soak.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import assert from "node:assert/strict";
import { Code, GrpcError, Metadata, createClient, type Channel, type Client } from "../src/index.js";
import { expectEqual, expectZeroPayload, zeros } from "./assertions.js";
import type { InteropCaseName } from "./case-names.js";
import type { SoakSettings } from "./client-flags.js";
import type { StreamingOutputCallRequestSchema } from "./gen/grpc/testing/messages_pb.js";
import { TestService, UnimplementedService } from "./gen/grpc/testing/test_pb.js";
import { runSoak } from "./soak.js";
import { echoInitialKey, echoTrailingKey } from "./test-service.js";

export interface CaseContext {
  readonly client: Client<typeof TestService>;
  readonly unimplementedService: Client<typeof UnimplementedService>;
  /** A new channel to the server with the same settings and a connection of its own (channel_soak); the caller closes it. */
  newChannel(): Channel;
  readonly soak: SoakSettings;
}

type StreamingOutputCallRequestInit = MessageInitShape<typeof StreamingOutputCallRequestSchema>;

export const interopCases: Record<InteropCaseName, (ctx: CaseContext) => Promise<void>> = {
  async empty_unary({ client }) {
    const response = await client.emptyCall({});
    expectEqual(response.$typeName, "grpc.testing.Empty", "response is a grpc.testing.Empty");
  },

  async large_unary({ client }) {
    const response = await client.unaryCall({ responseSize: 314159, payload: { body: zeros(271828) } });
    expectZeroPayload(response.payload, 314159);
  },

  async client_compressed_unary({ client }) {
    const request = (expectCompressed: boolean) => ({ expectCompressed: { value: expectCompressed }, responseSize: 314159, payload: { body: zeros(271828) } });
    await expectStatus(client.unaryCall(request(true)), Code.INVALID_ARGUMENT, "the uncompressed probe with expect_compressed");
    const compressed = await client.unaryCall(request(true), { compression: "gzip" });
    expectZeroPayload(compressed.payload, 314159, "compressed call");
    const uncompressed = await client.unaryCall(request(false));
    expectZeroPayload(uncompressed.payload, 314159, "uncompressed call");
  },

  async server_compressed_unary({ client }) {
    for (const responseCompressed of [true, false]) {
      const flags: boolean[] = [];
      const response = await client.unaryCall(
        { responseCompressed: { value: responseCompressed }, responseSize: 314159, payload: { body: zeros(271828) } },
        { onResponseMessage: ({ compressed }) => flags.push(compressed) },
      );
      expectEqual(flags, [responseCompressed], `compressed flag of the response with response_compressed=${responseCompressed}`);
      expectZeroPayload(response.payload, 314159, `response_compressed=${responseCompressed}`);
    }
  },

  async client_streaming({ client }) {
    const requests = [27182, 8, 1828, 45904].map((size) => ({ payload: { body: zeros(size) } }));
    const response = await client.streamingInputCall(requests);
    expectEqual(response.aggregatedPayloadSize, 74922, "aggregated_payload_size");
  },

  async client_compressed_streaming({ client }) {
    const probe = [{ expectCompressed: { value: true }, payload: { body: zeros(27182) } }];
    await expectStatus(client.streamingInputCall(probe), Code.INVALID_ARGUMENT, "the uncompressed probe with expect_compressed");
    const requests = [
      { expectCompressed: { value: true }, payload: { body: zeros(27182) } },
      { expectCompressed: { value: false }, payload: { body: zeros(45904) } },
    ];
    const response = await client.streamingInputCall(requests, { compression: "gzip", compressMessage: (index) => index === 0 });
    expectEqual(response.aggregatedPayloadSize, 73086, "aggregated_payload_size");
  },

  async server_streaming({ client }) {
    const sizes = [31415, 9, 2653, 58979];
    const responses = await collect(client.streamingOutputCall({ responseParameters: sizes.map((size) => ({ size })) }));
    expectEqual(responses.map((r) => r.payload?.body.length), sizes, "response payload sizes, in order");
    responses.forEach((r, i) => expectZeroPayload(r.payload, sizes[i]!, `response ${i}`));
  },

  async server_compressed_streaming({ client }) {
    const flags: boolean[] = [];
    const responses = await collect(client.streamingOutputCall(
      { responseParameters: [{ compressed: { value: true }, size: 31415 }, { compressed: { value: false }, size: 92653 }] },
      { onResponseMessage: ({ compressed }) => flags.push(compressed) },
    ));
    expectEqual(responses.map((r) => r.payload?.body.length), [31415, 92653], "response payload sizes, in order");
    expectEqual(flags, [true, false], "compressed flags of the two responses");
  },

  async ping_pong({ client }) {
    const exchanges = [[31415, 27182], [9, 8], [2653, 1828], [58979, 45904]] as const;
    const requests = new RequestPipe<StreamingOutputCallRequestInit>();
    const responses = client.fullDuplexCall(requests)[Symbol.asyncIterator]();
    try {
      for (const [responseSize, requestSize] of exchanges) {
        requests.push({ responseParameters: [{ size: responseSize }], payload: { body: zeros(requestSize) } });
        const next = await responses.next();
        assert.ok(next.done !== true, `a response to the request asking for ${responseSize} bytes`);
        expectZeroPayload(next.value.payload, responseSize);
      }
      requests.end();
      const last = await responses.next();
      assert.ok(last.done === true, "exactly four responses");
    } finally {
      requests.end();
      await responses.return?.();
    }
  },

  async empty_stream({ client }) {
    const responses = await collect(client.fullDuplexCall([]));
    expectEqual(responses.length, 0, "number of responses");
  },

  async timeout_on_sleeping_server({ client }) {
    const requests = new RequestPipe<StreamingOutputCallRequestInit>();
    requests.push({ payload: { body: zeros(27182) } });
    try {
      await expectStatus(collect(client.fullDuplexCall(requests, { timeoutMs: 1 })), Code.DEADLINE_EXCEEDED, "a call with a 1 ms deadline");
    } finally {
      requests.end();
    }
  },

  async cancel_after_begin({ client }) {
    const controller = new AbortController();
    const requests = new RequestPipe<never>();
    try {
      const call = client.streamingInputCall(requests, { signal: controller.signal });
      controller.abort();
      await expectStatus(call, Code.CANCELLED, "a call cancelled right after it started");
    } finally {
      requests.end();
    }
  },

  async cancel_after_first_response({ client }) {
    const controller = new AbortController();
    const requests = new RequestPipe<StreamingOutputCallRequestInit>();
    requests.push({ responseParameters: [{ size: 31415 }], payload: { body: zeros(27182) } });
    const responses = client.fullDuplexCall(requests, { signal: controller.signal })[Symbol.asyncIterator]();
    try {
      const first = await responses.next();
      assert.ok(first.done !== true, "a first response");
      expectZeroPayload(first.value.payload, 31415);
      controller.abort();
      await expectStatus(responses.next(), Code.CANCELLED, "the call cancelled after its first response");
    } finally {
      requests.end();
    }
  },

  async status_code_and_message({ client }) {
    const responseStatus = { code: 2, message: "test status message" };
    const unary = await expectStatus(client.unaryCall({ responseStatus }), Code.UNKNOWN, "UnaryCall");
    expectEqual(unary.rawMessage, responseStatus.message, "UnaryCall status message");
    const bidi = await expectStatus(collect(client.fullDuplexCall([{ responseStatus }])), Code.UNKNOWN, "FullDuplexCall");
    expectEqual(bidi.rawMessage, responseStatus.message, "FullDuplexCall status message");
  },

  async special_status_message({ client }) {
    const responseStatus = { code: 2, message: "\t\ntest with whitespace\r\nand Unicode BMP \u263A and non-BMP \u{1F608}\t\n" };
    const err = await expectStatus(client.unaryCall({ responseStatus }), Code.UNKNOWN, "UnaryCall");
    expectEqual(err.rawMessage, responseStatus.message, "status message, every whitespace character included");
  },

  async custom_metadata({ client }) {
    const initialValue = "test_initial_metadata_value";
    const trailingValue = [0xab, 0xab, 0xab];
    const metadata = new Metadata().set(echoInitialKey, initialValue).set(echoTrailingKey, new Uint8Array(trailingValue));
    const checkEcho = (step: string, header: Metadata | undefined, trailer: Metadata | undefined) => {
      expectEqual(header?.getAll(echoInitialKey), [initialValue], `${step}: ${echoInitialKey} in the initial metadata`);
      const trailing = trailer?.getAll(echoTrailingKey).map((v) => (typeof v === "string" ? v : Array.from(v)));
      expectEqual(trailing, [trailingValue], `${step}: ${echoTrailingKey} in the trailing metadata`);
    };

    let header: Metadata | undefined;
    let trailer: Metadata | undefined;
    const unary = await client.unaryCall(
      { responseSize: 314159, payload: { body: zeros(271828) } },
      { metadata, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
    );
    expectZeroPayload(unary.payload, 314159, "UnaryCall");
    checkEcho("UnaryCall", header, trailer);

    header = trailer = undefined;
    const responses = await collect(client.fullDuplexCall(
      [{ responseParameters: [{ size: 314159 }], payload: { body: zeros(271828) } }],
      { metadata, onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) },
    ));
    expectEqual(responses.map((r) => r.payload?.body.length), [314159], "FullDuplexCall response sizes");
    checkEcho("FullDuplexCall", header, trailer);
  },

  async unimplemented_method({ client }) {
    await expectStatus(client.unimplementedCall({}), Code.UNIMPLEMENTED, "TestService/UnimplementedCall");
  },

  async unimplemented_service({ unimplementedService }) {
    await expectStatus(unimplementedService.unimplementedCall({}), Code.UNIMPLEMENTED, "UnimplementedService/UnimplementedCall");
  },

  async rpc_soak({ client, soak }) {
    await runSoak(soak, async (_index, timeoutMs) => {
      const response = await client.unaryCall({ responseSize: soak.responseSize, payload: { body: zeros(soak.requestSize) } }, { timeoutMs });
      expectEqual(response.payload?.body.length, soak.responseSize, "response payload size");
    });
  },

  async channel_soak({ newChannel, soak }) {
    await runSoak(soak, async (_index, timeoutMs) => {
      const channel = newChannel();
      try {
        const client = createClient(TestService, channel);
        const response = await client.unaryCall({ responseSize: soak.responseSize, payload: { body: zeros(soak.requestSize) } }, { timeoutMs });
        expectEqual(response.payload?.body.length, soak.responseSize, "response payload size");
      } finally {
        channel.close();
      }
    });
  },
};

/** Awaits `call` and returns its GrpcError, asserting the code; a success or another error fails. */
async function expectStatus(call: Promise<unknown>, code: Code, what: string): Promise<GrpcError> {
  let outcome: unknown;
  try {
    await call;
  } catch (err) {
    outcome = err;
  }
  if (!(outcome instanceof GrpcError)) {
    assert.fail(outcome === undefined
      ? `${what}: succeeded, want status ${Code[code]}`
      : `${what}: failed with a non-gRPC error, want status ${Code[code]}: ${String(outcome)}`);
  }
  expectEqual(Code[outcome.code] ?? outcome.code, Code[code], `${what}: status code (message ${JSON.stringify(outcome.rawMessage)})`);
  return outcome;
}

async function collect<T>(responses: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const response of responses) all.push(response);
  return all;
}

/** Request messages sent as the case pushes them; end() half-closes (and releases the sender). */
class RequestPipe<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private ended = false;
  private wake: (() => void) | undefined;

  push(item: T): void {
    this.items.push(item);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
