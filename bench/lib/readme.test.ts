import assert from "node:assert/strict";
import { test } from "node:test";
import { withLatestRun } from "./readme.js";

const readme = "# Bench\n\nintro\n\n## Latest full run\n\n<!-- bench:results:start -->\nold table\n<!-- bench:results:end -->\n\nafter\n";
const report = "# grpc-ts benchmark — 2026-11-26\n\nMode **full**.\n\n## Targets\n\n| a |\n\n### Unary\n";

test("replaces only the section between the markers, headings one level down", () => {
  const got = withLatestRun(readme, report, "bench/results/x.md");
  assert.equal(
    got,
    "# Bench\n\nintro\n\n## Latest full run\n\n<!-- bench:results:start -->\nLatest full run (`bench/results/x.md`):\n\nMode **full**.\n\n### Targets\n\n| a |\n\n#### Unary\n<!-- bench:results:end -->\n\nafter\n",
  );
});

test("a second update replaces the first instead of appending", () => {
  const once = withLatestRun(readme, report, "bench/results/x.md");
  assert.equal(withLatestRun(once, report, "bench/results/x.md"), once);
});

test("refuses a README without the markers", () => {
  assert.throws(() => withLatestRun("# Bench\n", report, "x"), /no <!-- bench:results:start -->/);
});
