/**
 * Micro-benchmark, not a test: ns per message for @bufbuild/protobuf's toBinary
 * against the compiled encoder (src/protocol/protobuf), bare and as a gRPC frame (with
 * pooled output, the default, and with an own buffer per message), on Payload (one
 * bytes field) of 10 B, 1 KiB and 64 KiB and on the 20-field Order.
 * Run: npx tsx bench/codec/encoder.ts [roundMs]. Contenders alternate in short rounds
 * so drift on a shared machine hits all alike; the median round is reported.
 */
import { create, type DescMessage, type MessageShape, toBinary } from "@bufbuild/protobuf";
import { encodeFrame } from "../../src/protocol/frame.js";
import { getMessageEncoder } from "../../src/protocol/protobuf/index.js";
import { Order_Status, OrderSchema, PayloadSchema } from "../gen/bench_pb.js";

const roundMs = Number(process.argv[2] ?? 150);
const rounds = 9;

interface Contender {
  name: string;
  run: () => Uint8Array;
}

function contenders<Desc extends DescMessage>(desc: Desc, message: MessageShape<Desc>): Contender[] {
  const encoder = getMessageEncoder(desc);
  const owned = getMessageEncoder(desc, { pooledOutput: false });
  if (!encoder.compiled) throw new Error(`${desc.typeName}: encoder fell back to toBinary`);
  return [
    { name: "toBinary", run: () => toBinary(desc, message) },
    { name: "toBinary+frame", run: () => encodeFrame(toBinary(desc, message)) },
    { name: "encode", run: () => encoder.encode(message) },
    { name: "encodeFramed", run: () => encoder.encodeFramed(message) },
    { name: "encodeFramed(own buffer)", run: () => owned.encodeFramed(message) },
  ];
}

let sink = 0;

/** ns/op of `run` over about `ms` milliseconds, in batches to keep timer reads rare. */
function measure(run: () => Uint8Array, ms: number): number {
  let ops = 0;
  const start = performance.now();
  let now = start;
  do {
    for (let i = 0; i < 100; i++) sink += run().length;
    ops += 100;
    now = performance.now();
  } while (now - start < ms);
  return ((now - start) * 1e6) / ops;
}

function median(values: number[]): number {
  const sorted = values.concat().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function bench(label: string, cases: Contender[]): void {
  for (const c of cases) measure(c.run, roundMs); // warm-up: let the JIT settle
  const samples = cases.map((): number[] => []);
  for (let r = 0; r < rounds; r++) {
    cases.forEach((c, i) => samples[i]?.push(measure(c.run, roundMs)));
  }
  const base = median(samples[0] ?? []);
  const cells = cases.map((c, i) => {
    const ns = median(samples[i] ?? []);
    return `${c.name} ${ns.toFixed(0)} ns (${(base / ns).toFixed(1)}x)`;
  });
  console.log(`${label}\n  ${cells.join("\n  ")}`);
}

function payload(bytes: number) {
  return create(PayloadSchema, { body: new Uint8Array(bytes).map((_, i) => i & 0xff) });
}

function order() {
  return create(OrderSchema, {
    id: "ord_01HZX3Q8M4W7K2T9V5B6N1C0RD",
    customerId: "cus_8f14e45fceea167a5a36dedd4bea2543",
    customerEmail: "ada.lovelace@example.com",
    status: Order_Status.PAID,
    createdAtMs: 1_764_115_200_000n,
    updatedAtMs: 1_764_118_800_123n,
    total: 1249.99,
    tax: 208.33,
    discount: 0.15,
    currency: "EUR",
    gift: true,
    itemCount: 3,
    balanceDelta: -125_000n,
    shippingAddress: { street: "12 Analytical Engine Way", city: "London", postalCode: "SW1A 1AA", country: "GB" },
    billingAddress: { street: "1 Difference Lane", city: "Cambridge", postalCode: "CB2 1TN", country: "GB" },
    items: [
      { sku: "SKU-000123", title: "Mechanical keyboard, brown switches", quantity: 1, unitPriceMicros: 149_990_000n },
      { sku: "SKU-004567", title: "27-inch monitor, 4K, USB-C", quantity: 1, unitPriceMicros: 899_000_000n },
      { sku: "SKU-008901", title: "USB-C cable 2 m", quantity: 1, unitPriceMicros: 12_990_000n },
    ],
    tags: ["priority", "b2b", "eu-warehouse"],
    attributes: { channel: "web", campaign: "black-friday", "ab-test": "checkout-v2" },
    signature: new Uint8Array(64).map((_, i) => (i * 37) & 0xff),
  });
}

console.log(`node ${process.version}, ${rounds} rounds of ${roundMs} ms each, median; (x) = speed-up over toBinary`);
bench("Payload 10 B", contenders(PayloadSchema, payload(10)));
bench("Payload 1 KiB", contenders(PayloadSchema, payload(1024)));
bench("Payload 64 KiB", contenders(PayloadSchema, payload(64 * 1024)));
const o = order();
bench(`Order ${toBinary(OrderSchema, o).length} B`, contenders(OrderSchema, o));
if (sink === 0) console.log("(nothing encoded)");
