/**
 * google.protobuf.Duration in its JSON form ("1.5s", "0.000001s"), as service configs
 * write timeouts and backoffs. Pure.
 */

/** Parses "<seconds>[.<fraction>]s" into milliseconds, or undefined if malformed. */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(value);
  if (match === null) return undefined;
  const seconds = Number(match[1]);
  const fraction = match[2] === undefined ? 0 : Number(`0.${match[2]}`);
  const ms = (Math.abs(seconds) + fraction) * 1000;
  return match[1]!.startsWith("-") ? -ms : ms;
}
