/**
 * The Route Guide client (`npm run route-guide:client`): a tour of the four call
 * types, every call with a deadline, then the error and deadline paths on purpose.
 * Target: --target=… (any target a channel accepts: host:port, dns:///host:port,
 * ipv4:a:p,b:p, unix:path…) wins over TARGET, else 127.0.0.1:50051. --lb=pick_first|
 * round_robin picks the load-balancing policy; --repeat=N then makes N GetFeature calls
 * and prints `calls to <address>: <n>` per server (from its x-served-by header).
 * Exits 0 when the tour went as designed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { BadRequestSchema } from "../../src/gen/google/rpc/error_details_pb.js";
import { Code, GrpcError, createChannel, createClient } from "../../src/index.js";
import { RouteGuide, type RouteNote } from "./gen/route_guide_pb.js";
import { loadFeatures } from "./features.js";

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.slice(2).find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

const target = flag("target") ?? process.env.TARGET ?? "127.0.0.1:50051";
const lb = flag("lb");
const repeat = Number(flag("repeat") ?? "0");
if ((lb !== undefined && lb !== "pick_first" && lb !== "round_robin") || !Number.isInteger(repeat) || repeat < 0) {
  console.error("usage: client.ts [--target=<target>] [--lb=pick_first|round_robin] [--repeat=<calls>]");
  process.exit(2);
}
const channel = createChannel(target, undefined, { loadBalancingPolicy: lb });
const client = createClient(RouteGuide, channel);
const deadlineMs = 5_000;
const e7 = (deg: number) => Math.round(deg * 1e7);
const show = (p: { latitude: number; longitude: number } | undefined) => `(${((p?.latitude ?? 0) / 1e7).toFixed(4)}, ${((p?.longitude ?? 0) / 1e7).toFixed(4)})`;
let failures = 0;

function check(ok: boolean, what: string): void {
  if (!ok) {
    failures++;
    console.log(`  UNEXPECTED: ${what}`);
  }
}

async function step(title: string, body: () => Promise<void>): Promise<void> {
  console.log(`\n== ${title}`);
  try {
    await body();
  } catch (err) {
    failures++;
    console.log(`  FAILED: ${err instanceof Error ? err.message : String(err)}`);
  }
}

const features = loadFeatures();

await step("GetFeature (unary)", async () => {
  const eiffel = await client.getFeature({ latitude: e7(48.8584), longitude: e7(2.2945) }, { timeoutMs: deadlineMs });
  console.log(`  feature at ${show(eiffel.location)}: ${JSON.stringify(eiffel.name)}`);
  check(eiffel.name !== "", "the Eiffel Tower should be a named feature");
  const nowhere = await client.getFeature({ latitude: 0, longitude: 0 }, { timeoutMs: deadlineMs });
  console.log(`  feature at ${show(nowhere.location)}: ${nowhere.name === "" ? "(none)" : nowhere.name}`);
  check(nowhere.name === "", "there is no feature at (0, 0)");
});

await step("ListFeatures (server streaming): Europe", async () => {
  let count = 0;
  const rect = { lo: { latitude: e7(35), longitude: e7(-10) }, hi: { latitude: e7(60), longitude: e7(30) } };
  for await (const feature of client.listFeatures(rect, { timeoutMs: deadlineMs })) {
    count++;
    console.log(`  ${feature.name} ${show(feature.location)}`);
  }
  console.log(`  ${count} features`);
  check(count > 10, "Europe should hold more than 10 features");
});

await step("RecordRoute (client streaming): 10 random stops", async () => {
  const stops = Array.from({ length: 10 }, () => features[Math.floor(Math.random() * features.length)]!.location!);
  async function* route() {
    for (const point of stops) {
      console.log(`  visiting ${show(point)}`);
      yield point;
      await sleep(20);
    }
  }
  const summary = await client.recordRoute(route(), { timeoutMs: deadlineMs });
  console.log(`  summary: ${summary.pointCount} points, ${summary.featureCount} features, ${(summary.distance / 1000).toFixed(0)} km, ${summary.elapsedTime} s`);
  check(summary.pointCount === 10 && summary.featureCount === 10, "all 10 stops are features");
});

await step("RouteChat (bidirectional streaming)", async () => {
  const notes: { latitude: number; longitude: number; message: string }[] = [
    { latitude: e7(1), longitude: e7(1), message: "First message" },
    { latitude: e7(2), longitude: e7(2), message: "Second message" },
    { latitude: e7(1), longitude: e7(1), message: "Third message" },
    { latitude: e7(2), longitude: e7(2), message: "Fourth message" },
  ];
  const tag = `${process.pid}-${Date.now()}`;
  async function* send() {
    for (const n of notes) {
      const note = { location: { latitude: n.latitude, longitude: n.longitude }, message: `${n.message} (${tag})` };
      console.log(`  sending ${JSON.stringify(note.message)} at ${show(note.location)}`);
      yield note;
      await sleep(50);
    }
  }
  const received: RouteNote[] = [];
  for await (const note of client.routeChat(send(), { timeoutMs: deadlineMs })) {
    if (!note.message.includes(tag)) continue; // notes other clients left earlier
    received.push(note);
    console.log(`  got ${JSON.stringify(note.message)} at ${show(note.location)}`);
  }
  check(received.length === 2, "the 3rd and 4th notes each bring back one earlier note");
});

await step("Error path: a point off the globe", async () => {
  try {
    await client.getFeature({ latitude: e7(91), longitude: 0 }, { timeoutMs: deadlineMs });
    check(false, "GetFeature at latitude 91 should fail");
  } catch (err) {
    if (!(err instanceof GrpcError)) throw err;
    const violations = err.findDetails(BadRequestSchema).flatMap((d) => d.fieldViolations);
    console.log(`  ${Code[err.code]}: ${err.rawMessage}`);
    for (const v of violations) console.log(`    ${v.field}: ${v.description}`);
    check(err.code === Code.INVALID_ARGUMENT && violations.length === 1, "INVALID_ARGUMENT with one field violation");
  }
});

await step("Deadline path: a slow route with a 300 ms deadline", async () => {
  async function* slowRoute() {
    for (const f of features.slice(0, 10)) {
      yield f.location!;
      await sleep(100);
    }
  }
  const started = Date.now();
  try {
    await client.recordRoute(slowRoute(), { timeoutMs: 300 });
    check(false, "a 1 s route cannot finish within 300 ms");
  } catch (err) {
    if (!(err instanceof GrpcError)) throw err;
    console.log(`  ${Code[err.code]} after ${Date.now() - started} ms`);
    check(err.code === Code.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED");
  }
});

if (repeat > 0) {
  await step(`GetFeature × ${repeat}: who answers (${lb ?? "pick_first"})`, async () => {
    const calls = new Map<string, number>();
    for (let i = 0; i < repeat; i++) {
      let servedBy = "(no x-served-by header)";
      await client.getFeature({ latitude: e7(48.8584), longitude: e7(2.2945) }, {
        timeoutMs: deadlineMs,
        onHeader: (header) => (servedBy = header.getString("x-served-by") ?? servedBy),
      });
      calls.set(servedBy, (calls.get(servedBy) ?? 0) + 1);
    }
    for (const [address, n] of [...calls].sort()) console.log(`calls to ${address}: ${n}`);
  });
}

channel.close();
console.log(failures === 0 ? "\ntour complete" : `\ntour finished with ${failures} unexpected results`);
process.exitCode = failures === 0 ? 0 : 1;
