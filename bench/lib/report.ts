/**
 * Renders a run as Markdown: the targets of issues 5 and 6 (met, missed or
 * load-bound, as the median of per-rep ratios), then one table per scenario with
 * median [min–max] over repetitions and ratios to @grpc/grpc-js (to protobufjs for
 * the codec).
 */
import type { Measurement, RunResults } from "./results.js";
import { scenarios, subjectLabels, type Scenario } from "./scenarios.js";
import { spread, type Spread } from "./stats.js";
import { evaluateTargets, loadSaturatedPercent, targets, type TargetResult } from "./targets.js";

// ---- number formatting ----

function fixed(value: number, digits: number): string {
  return value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Three significant figures, thousands separated. */
function sig3(value: number): string {
  if (!Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  if (abs >= 100) return fixed(value, 0);
  if (abs >= 10) return fixed(value, 1);
  if (abs >= 1) return fixed(value, 2);
  return value.toPrecision(3);
}

function withRange(s: Spread | undefined, format: (v: number) => string, reps: number): string {
  if (s === undefined) return "–";
  if (reps <= 1 || s.min === s.max) return format(s.median);
  return `${format(s.median)} [${format(s.min)}–${format(s.max)}]`;
}

const ms = (us: number) => sig3(us / 1000);
const mb = (bytes: number) => sig3(bytes / 1e6);
const kib = (bytes: number) => sig3(bytes / 1024);
const ratio = (r: number) => `${r.toFixed(2)}x`;
/** A load CPU share, bold when the load generator was saturated. */
const loadPercent = (p: number) => (p >= loadSaturatedPercent ? `**${p.toFixed(0)}**` : p.toFixed(0));

// ---- tables ----

interface Row {
  subject: string;
  list: Measurement[];
}

/** One row per subject, in the order of subjectLabels (grpc-ts first), whatever order they ran in. */
function rowsFor(scenario: Scenario, measurements: readonly Measurement[]): Row[] {
  const forScenario = measurements.filter((m) => m.scenario === scenario.id);
  const order = Object.keys(subjectLabels);
  const rank = (subject: string) => (order.includes(subject) ? order.indexOf(subject) : order.length);
  const subjects = [...new Set(forScenario.map((m) => m.subject))].sort((a, b) => rank(a) - rank(b));
  return subjects.map((subject) => ({ subject, list: forScenario.filter((m) => m.subject === subject) }));
}

/** Median [min–max] of subject/baseline per repetition. */
function ratioTo(row: Row, rows: readonly Row[], baselineSubject: string, value: (m: Measurement) => number | undefined): string {
  const baseline = rows.find((r) => r.subject === baselineSubject);
  if (baseline === undefined) return "–";
  const ratios: number[] = [];
  for (const m of row.list) {
    const b = baseline.list.find((x) => x.rep === m.rep);
    const v = value(m);
    const bv = b === undefined ? undefined : value(b);
    if (v !== undefined && bv !== undefined && bv > 0) ratios.push(v / bv);
  }
  return withRange(spread(ratios), ratio, ratios.length);
}

function of(list: readonly Measurement[], value: (m: Measurement) => number | undefined): Spread | undefined {
  return spread(list.filter((m) => m.error === undefined).map(value).filter((v): v is number => v !== undefined));
}

/** "ok" with the server's and the load side's counts summed over repetitions, or the first failure. */
function checkCell(row: Row): string {
  const failed = row.list.filter((m) => m.error !== undefined || !m.check.ok);
  if (failed.length === 0) {
    const sum = (pick: (m: Measurement) => number | undefined) => row.list.reduce((total, m) => total + (pick(m) ?? 0), 0);
    const server = sum((m) => m.check.serverCount);
    const load = sum((m) => m.check.loadCount);
    return server === 0 && load === 0 ? "ok" : `ok: ${server.toLocaleString("en-US")} = ${load.toLocaleString("en-US")}`;
  }
  const first = failed[0]!;
  return `**FAILED** ${failed.length}/${row.list.length}: rep ${first.rep}: ${(first.error ?? first.check.detail).split("\n")[0]!.replaceAll("|", "\\|")}`;
}

/** The row label; grpc-ts rows name the transport measured. */
function subjectLabel(subject: string, transport: string): string {
  const label = subjectLabels[subject] ?? subject;
  return subject.endsWith(":grpc-ts") ? `${label} (${transport})` : label;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

function unitOf(scenario: Scenario): string {
  switch (scenario.kind) {
    case "pingpong":
      return "msgs/s";
    case "h2load":
      return scenario.messagesPerCall > 1 ? "msgs/s" : "calls/s";
    case "client":
      return scenario.messagesPerCall > 1 || scenario.job === "pingpong" ? "msgs/s" : "calls/s";
    default:
      return "ops/s";
  }
}

function throughputTable(scenario: Scenario, rows: readonly Row[], reps: number, baseline: string, transport: string): string {
  const unit = unitOf(scenario);
  const perOp = unit === "msgs/s" ? "msg" : "call";
  const latencyOf = scenario.kind === "pingpong" || (scenario.kind === "client" && scenario.job === "pingpong") ? "round trip" : "call";
  const cpuOf = scenario.kind === "client" ? "client" : "server";
  // Server-side load comes from one generator on core 0; client scenarios measure the client itself.
  const withLoad = scenario.kind !== "client";
  const header = [
    scenario.kind === "client" ? "client" : "server", unit, "vs grpc-js", "MB/s",
    `p50 ms (${latencyOf})`, "p99 ms", "p99.9 ms", `${cpuOf} CPU µs/${perOp}`, ...(withLoad ? ["load CPU %"] : []), `${cpuOf} RSS MB`,
    "OK check: server = load side",
  ];
  const body = rows.map((row) => [
    subjectLabel(row.subject, transport),
    withRange(of(row.list, (m) => m.rate), sig3, reps),
    row.subject === baseline ? "1.00x" : ratioTo(row, rows, baseline, (m) => m.rate),
    withRange(of(row.list, (m) => m.mbPerSecond), sig3, 1),
    withRange(of(row.list, (m) => m.latency?.p50Us), ms, 1),
    withRange(of(row.list, (m) => m.latency?.p99Us), ms, reps),
    withRange(of(row.list, (m) => m.latency?.p999Us), ms, 1),
    withRange(of(row.list, (m) => m.cpuUsPerOp), sig3, 1),
    ...(withLoad ? [withRange(of(row.list, (m) => m.loadCpuPercent), loadPercent, 1)] : []),
    withRange(of(row.list, (m) => m.rssBytes), mb, 1),
    checkCell(row),
  ]);
  return table(header, body);
}

function memoryTable(scenario: Extract<Scenario, { kind: "memory" }>, rows: readonly Row[], reps: number, transport: string): string {
  const per = scenario.per;
  const header = ["server", `RSS KiB per ${per}`, "vs grpc-js", `JS heap KiB per ${per}`, "server RSS MB (loaded)", "nothing lost: server = client OK"];
  const body = rows.map((row) => [
    subjectLabel(row.subject, transport),
    withRange(of(row.list, (m) => m.memoryPerUnit?.rssBytes), kib, reps),
    row.subject === "server:grpc-js" ? "1.00x" : ratioTo(row, rows, "server:grpc-js", (m) => m.memoryPerUnit?.rssBytes),
    withRange(of(row.list, (m) => m.memoryPerUnit?.heapBytes), kib, reps),
    withRange(of(row.list, (m) => m.rssBytes), mb, 1),
    checkCell(row),
  ]);
  return table(header, body);
}

function codecTable(rows: readonly Row[], reps: number): string {
  const bytes = rows[0]?.list.find((m) => m.codec !== undefined)?.codec?.encodedBytes;
  const header = ["library", "encode ops/s", "vs protobufjs", "decode ops/s", "vs protobufjs"];
  const body = rows.map((row) => [
    subjectLabels[row.subject] ?? row.subject,
    withRange(of(row.list, (m) => m.codec?.encodeOpsPerSecond), sig3, reps),
    ratioTo(row, rows, "codec:protobufjs", (m) => m.codec?.encodeOpsPerSecond),
    withRange(of(row.list, (m) => m.codec?.decodeOpsPerSecond), sig3, reps),
    ratioTo(row, rows, "codec:protobufjs", (m) => m.codec?.decodeOpsPerSecond),
  ]);
  return `${table(header, body)}\n\nEncoded size: ${bytes ?? "?"} bytes.`;
}

function statusCell(r: TargetResult): string {
  switch (r.status) {
    case "met":
      return "**met**";
    case "missed":
      return "**missed**";
    case "load-bound":
      return `load-bound (see CPU per ${r.target.scenario.includes("/unary-") ? "call" : "message"})`;
    case "not measured":
      return "not measured";
    default:
      r.status satisfies never;
      return "?";
  }
}

/** One row per target; "load CPU %" is the load generator's share of core 0 during grpc-ts's runs. */
/** A threshold such as 1/3 as 0.333, not 0.3333333333333333. */
function thresholdText(threshold: number): string {
  return Number.isInteger(threshold * 100) ? String(threshold) : threshold.toFixed(3);
}

export function targetsTable(results: readonly TargetResult[]): string {
  const body = results.map((r) => [
    r.target.issues.join(", "),
    r.target.description,
    withRange(r.ratio, ratio, r.reps),
    `${r.target.compare} ${thresholdText(r.target.threshold)}x`,
    withRange(r.loadCpuPercent, loadPercent, 1),
    statusCell(r),
  ]);
  return table(["issue", "target (grpc-ts over baseline, per rep)", "ratio median [min–max]", "needed", "load CPU %", "result"], body);
}

export function renderMarkdown(run: RunResults): string {
  const { meta, measurements } = run;
  const reps = meta.reps;
  const load1 = meta.machine.loadAverageAtStart[0] ?? 0;
  const out: string[] = [];
  out.push(`# grpc-ts benchmark — ${meta.startedAt}`);
  out.push("");
  out.push(
    `Mode **${meta.mode}**, ${reps} repetition${reps === 1 ? "" : "s"} (warm-up ${meta.warmupMs} ms, measured ~${meta.measureMs} ms each), ` +
      `grpc-ts transport \`${meta.grpcTsTransport}\`. ${meta.machine.cpu}, ${meta.machine.cores} cores, Linux ${meta.machine.kernel}; ` +
      `servers on core 1, load generators on core 0. Load average at start ${meta.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(" ")}, ` +
      `at end ${meta.machine.loadAverageAtEnd.map((l) => l.toFixed(2)).join(" ")}.`,
  );
  out.push("");
  out.push(`Versions: ${Object.entries(meta.versions).map(([k, v]) => `${k} ${v}`).join(", ")}.`);
  if (meta.mode === "quick" || reps < 3 || load1 > 0.5) {
    out.push("");
    out.push(
      `> **Noisy figures**: ${meta.mode === "quick" ? "a quick run (short windows, one repetition)" : `${reps} repetition(s)`}` +
        `${load1 > 0.5 ? `, on a machine already busy at the start (load ${load1.toFixed(2)})` : ""}. Use it to check a change, not to quote.`,
    );
  }
  out.push("");
  out.push("## Targets");
  out.push("");
  const evaluated = evaluateTargets(measurements).filter((r) => meta.scenarios.includes(r.target.scenario));
  out.push(evaluated.length === 0 ? "No target depends on the scenarios of this run." : targetsTable(evaluated));
  const skipped = targets.length - evaluated.length;
  if (skipped > 0 && evaluated.length > 0) out.push("", `${skipped} other target(s) depend on scenarios not in this run.`);

  const sections: { title: string; note: string; kinds: Scenario["kind"][] }[] = [
    {
      title: "Server side",
      note:
        "h2load (C, one thread, core 0) drives each server (core 1); gRPC over one h2c connection with that many concurrent streams, REST over that many HTTP/1.1 keep-alive connections. " +
        `Ping-pong uses our load client (${meta.pingPongClient === "raw" ? "a minimal HTTP/2 client over node:net" : "the bare node:http2 client"}), memory our bare node:http2 client, the same for every server. ` +
        "Latency is per call from h2load's log (per round trip for ping-pong). " +
        `"load CPU %" is the load generator's CPU time over its run as a share of core 0; at ${loadSaturatedPercent}% or more (bold) the load, not the server, may have set the rate.`,
      kinds: ["h2load", "pingpong", "memory"],
    },
    {
      title: "Client side",
      note: `Each client library in its own process (core 0) against the grpc-ts server (core 1, transport \`${meta.grpcTsTransport}\`), closed loop; CPU and RSS are the client process's.`,
      kinds: ["client"],
    },
    { title: "Protobuf codec", note: "One process on core 1; the libraries alternate in 50 ms slices.", kinds: ["codec"] },
  ];
  for (const section of sections) {
    const inSection = scenarios.filter((s) => section.kinds.includes(s.kind) && meta.scenarios.includes(s.id));
    if (inSection.length === 0) continue;
    out.push("");
    out.push(`## ${section.title}`);
    out.push("");
    out.push(section.note);
    for (const scenario of inSection) {
      const rows = rowsFor(scenario, measurements);
      out.push("");
      out.push(`### ${scenario.title} (\`${scenario.id}\`)`);
      out.push("");
      switch (scenario.kind) {
        case "h2load":
        case "pingpong":
          out.push(throughputTable(scenario, rows, reps, "server:grpc-js", meta.grpcTsTransport));
          break;
        case "client":
          out.push(throughputTable(scenario, rows, reps, "client:grpc-js", meta.grpcTsTransport));
          break;
        case "memory":
          out.push(memoryTable(scenario, rows, reps, meta.grpcTsTransport));
          break;
        case "codec":
          out.push(codecTable(rows, reps));
          break;
        default:
          scenario satisfies never;
      }
    }
  }
  out.push("");
  return out.join("\n");
}
