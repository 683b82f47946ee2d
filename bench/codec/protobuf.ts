/**
 * Protobuf codec throughput: encode and decode ops/s of one realistic 20-field
 * message (bench.proto's Order) with @bufbuild/protobuf (what grpc-ts uses) and
 * protobufjs (what @grpc/grpc-js users get through @grpc/proto-loader). Run as a
 * child of bench/run.ts, pinned to one core; the libraries alternate in short
 * slices so drift on a shared machine hits both alike.
 */
import { performance } from "node:perf_hooks";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import protobuf from "protobufjs";
import { Order_Status, OrderSchema, type Order } from "../gen/bench_pb.js";
import { benchProtoPath } from "../lib/grpc-js-bench.js";
import { exitWithParent, sendToParent } from "../lib/ipc.js";

export interface CodecJob {
  warmupMs: number;
  durationMs: number;
}

export interface CodecOps {
  encodeOpsPerSecond: number;
  decodeOpsPerSecond: number;
}

export interface CodecReport {
  type: "result";
  encodedBytes: number;
  bufbuild: CodecOps;
  protobufjs: CodecOps;
}

/** The same order for both libraries, in each one's input shape. */
const orderFields = {
  id: "ord_01HZX3Q8M4W7K2T9V5B6N1C0RD",
  customerId: "cus_8f14e45fceea167a5a36dedd4bea2543",
  customerEmail: "ada.lovelace@example.com",
  createdAtMs: 1_764_115_200_000,
  updatedAtMs: 1_764_118_800_123,
  total: 1249.99,
  tax: 208.33,
  discount: 0.15,
  currency: "EUR",
  gift: true,
  express: false,
  itemCount: 3,
  balanceDelta: -125_000,
  shippingAddress: { street: "12 Analytical Engine Way", city: "London", postalCode: "SW1A 1AA", country: "GB" },
  billingAddress: { street: "1 Difference Lane", city: "Cambridge", postalCode: "CB2 1TN", country: "GB" },
  items: [
    { sku: "SKU-000123", title: "Mechanical keyboard, brown switches", quantity: 1, unitPriceMicros: 149_990_000 },
    { sku: "SKU-004567", title: "27-inch monitor, 4K, USB-C", quantity: 1, unitPriceMicros: 899_000_000 },
    { sku: "SKU-008901", title: "USB-C cable 2 m", quantity: 1, unitPriceMicros: 12_990_000 },
  ],
  tags: ["priority", "b2b", "eu-warehouse"],
  attributes: { channel: "web", campaign: "black-friday", "ab-test": "checkout-v2" },
  signature: new Uint8Array(64).map((_, i) => (i * 37) & 0xff),
};

function bufbuildOrder(): Order {
  return create(OrderSchema, {
    ...orderFields,
    status: Order_Status.PAID,
    createdAtMs: BigInt(orderFields.createdAtMs),
    updatedAtMs: BigInt(orderFields.updatedAtMs),
    balanceDelta: BigInt(orderFields.balanceDelta),
    items: orderFields.items.map((item) => ({ ...item, unitPriceMicros: BigInt(item.unitPriceMicros) })),
  });
}

/** Calls `op` in batches until `ms` elapsed; returns ops/s. */
function opsPerSecond(op: () => void, ms: number): { ops: number; seconds: number } {
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 200; i++) op();
    ops += 200;
    now = performance.now();
  }
  return { ops, seconds: (now - start) / 1000 };
}

function main(): void {
  exitWithParent();
  const job = JSON.parse(process.argv[2] ?? "") as CodecJob;

  const order = bufbuildOrder();
  const bufbuildBytes = toBinary(OrderSchema, order);
  const OrderType = protobuf.loadSync(benchProtoPath).lookupType("grpcts.bench.Order");
  const pbjsOrder = OrderType.fromObject({ ...orderFields, status: Order_Status.PAID });
  const pbjsBytes = OrderType.encode(pbjsOrder).finish();

  // Both must write and read the same message, or the comparison means nothing. Compared
  // after a decode, since float fields (discount) only round to 32 bits on the wire.
  const decoded = fromBinary(OrderSchema, bufbuildBytes);
  if (!equals(OrderSchema, fromBinary(OrderSchema, pbjsBytes), decoded)) throw new Error("protobufjs encoded a different Order");
  if (!equals(OrderSchema, fromBinary(OrderSchema, OrderType.encode(OrderType.decode(bufbuildBytes)).finish()), decoded)) {
    throw new Error("protobufjs decoded a different Order");
  }

  let sink = 0; // keeps results alive, so no work is optimised away
  const ops = {
    bufbuildEncode: () => (sink += toBinary(OrderSchema, order).length),
    protobufjsEncode: () => (sink += OrderType.encode(pbjsOrder).finish().length),
    bufbuildDecode: () => (sink += fromBinary(OrderSchema, bufbuildBytes).items.length),
    protobufjsDecode: () => (sink += (OrderType.decode(pbjsBytes) as unknown as { items: unknown[] }).items.length),
  };
  const names = Object.keys(ops) as (keyof typeof ops)[];
  for (const name of names) opsPerSecond(ops[name], job.warmupMs / names.length);

  const totals = Object.fromEntries(names.map((n) => [n, { ops: 0, seconds: 0 }])) as Record<keyof typeof ops, { ops: number; seconds: number }>;
  const sliceMs = 50;
  const slices = Math.max(1, Math.round(job.durationMs / (sliceMs * names.length)));
  for (let s = 0; s < slices; s++) {
    for (const name of names) {
      const { ops: n, seconds } = opsPerSecond(ops[name], sliceMs);
      totals[name].ops += n;
      totals[name].seconds += seconds;
    }
  }
  const rate = (name: keyof typeof ops) => totals[name].ops / totals[name].seconds;
  const report: CodecReport = {
    type: "result",
    encodedBytes: bufbuildBytes.length,
    bufbuild: { encodeOpsPerSecond: rate("bufbuildEncode"), decodeOpsPerSecond: rate("bufbuildDecode") },
    protobufjs: { encodeOpsPerSecond: rate("protobufjsEncode"), decodeOpsPerSecond: rate("protobufjsDecode") },
  };
  if (sink === 0) throw new Error("unreachable: nothing was encoded");
  sendToParent(report);
  setTimeout(() => process.exit(0), 100).unref();
}

main();
