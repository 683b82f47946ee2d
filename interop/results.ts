/**
 * The one-line result of an interop case, as every interop client here prints it and the
 * runner reads it back: `PASS <case>`, `FAIL <case>: <reason>`, or `SKIP <case>: <reason>`
 * when the implementation under test cannot run the case at all.
 */

export type CaseOutcome =
  | { readonly kind: "pass" }
  | { readonly kind: "fail"; readonly reason: string }
  | { readonly kind: "skip"; readonly reason: string };

export interface CaseResult {
  readonly name: string;
  readonly outcome: CaseOutcome;
}

/** Formats a result as one line (reasons are flattened to a single line). */
export function formatCaseResult({ name, outcome }: CaseResult): string {
  switch (outcome.kind) {
    case "pass":
      return `PASS ${name}`;
    case "fail":
      return `FAIL ${name}: ${oneLine(outcome.reason)}`;
    case "skip":
      return `SKIP ${name}: ${oneLine(outcome.reason)}`;
    default:
      return outcome satisfies never;
  }
}

/** Parses a line printed by formatCaseResult; undefined for any other line. */
export function parseCaseResult(line: string): CaseResult | undefined {
  const match = /^(PASS|FAIL|SKIP) ([a-z_]+)(?:: (.*))?$/.exec(line.trimEnd());
  if (match === null) return undefined;
  const [, verdict, name, reason = ""] = match;
  if (verdict === "PASS") return { name: name!, outcome: { kind: "pass" } };
  return { name: name!, outcome: { kind: verdict === "FAIL" ? "fail" : "skip", reason } };
}

/** The reason a case failed, from whatever it threw. */
export function failureReason(err: unknown): string {
  if (err instanceof Error) return err.message === "" ? err.name : err.message;
  return String(err);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " | ");
}
