/**
 * bench/README.md keeps the latest full run's tables between two markers; only a
 * run with --update-readme rewrites them, and nothing else in the README.
 */

export const readmeStart = "<!-- bench:results:start -->";
export const readmeEnd = "<!-- bench:results:end -->";

/** `readme` with the section between the markers replaced by `report` (a run's Markdown). */
export function withLatestRun(readme: string, report: string, resultsPath: string): string {
  const start = readme.indexOf(readmeStart);
  const end = readme.indexOf(readmeEnd);
  if (start < 0 || end < start) throw new Error(`bench/README.md has no ${readmeStart} … ${readmeEnd} section`);
  // The run's title becomes a line under the README's own heading; its headings move one level down.
  const body = report
    .replace(/^# .*\n/, `Latest full run (\`${resultsPath}\`):\n`)
    .replaceAll(/^(#{2,5}) /gm, "#$1 ");
  return `${readme.slice(0, start + readmeStart.length)}\n${body.trim()}\n${readme.slice(end)}`;
}
