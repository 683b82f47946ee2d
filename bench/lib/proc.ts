/**
 * What Linux's /proc says of a process: CPU time (utime + stime of every thread,
 * /proc/<pid>/stat fields 14 and 15, in clock ticks) and resident memory; and the
 * CPU time of this process's children that have exited (fields 16 and 17).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

let ticksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    const value = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());
    ticksPerSecond = Number.isInteger(value) && value > 0 ? value : 100;
  }
  return ticksPerSecond;
}

/** User + system CPU time of process `pid` so far, in microseconds (resolution: one clock tick, 10 ms at 100 Hz). */
export function processCpuUs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1_000_000) / clockTicksPerSecond();
}

/**
 * User + system CPU time, in microseconds, of every child of this process that has
 * exited and been reaped so far (cutime + cstime of /proc/self/stat): the kernel adds
 * a child's whole CPU time there when it is reaped. The difference across one child's
 * life is that child's CPU time, exit included, as long as no other child exits meanwhile.
 */
export function reapedChildrenCpuUs(): number {
  const ticks = clockTicksPerSecond(); // first: getconf is a child too, and must be reaped before the reading
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[13]) + Number(fields[14])) * 1_000_000) / ticks;
}

/** Resident set size of process `pid` in bytes (VmRSS). */
export function processRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (match === null) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}
