/**
 * The HPACK static table (RFC 7541 Appendix A): 61 entries, indices 1..61, and the
 * lookups an encoder needs. Pure data: no node: imports.
 */

// prettier-ignore
export const staticTable: readonly (readonly [name: string, value: string])[] = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"],
  [":path", "/index.html"], [":scheme", "http"], [":scheme", "https"], [":status", "200"],
  [":status", "204"], [":status", "206"], [":status", "304"], [":status", "400"],
  [":status", "404"], [":status", "500"], ["accept-charset", ""], ["accept-encoding", "gzip, deflate"],
  ["accept-language", ""], ["accept-ranges", ""], ["accept", ""], ["access-control-allow-origin", ""],
  ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""],
  ["date", ""], ["etag", ""], ["expect", ""], ["expires", ""],
  ["from", ""], ["host", ""], ["if-match", ""], ["if-modified-since", ""],
  ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""], ["last-modified", ""],
  ["link", ""], ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""],
  ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""],
  ["retry-after", ""], ["server", ""], ["set-cookie", ""], ["strict-transport-security", ""],
  ["transfer-encoding", ""], ["user-agent", ""], ["vary", ""], ["via", ""],
  ["www-authenticate", ""],
];

export const staticTableLength = staticTable.length;

/** Lowest static index of each name. */
const nameIndex = new Map<string, number>();
/** Static index of each name and value pair that has a value. */
const pairIndex = new Map<string, Map<string, number>>();

staticTable.forEach(([name, value], i) => {
  const index = i + 1;
  if (!nameIndex.has(name)) nameIndex.set(name, index);
  if (value !== "") {
    let values = pairIndex.get(name);
    if (values === undefined) pairIndex.set(name, (values = new Map()));
    values.set(value, index);
  }
});

/** The static index of `name`, or 0. */
export function staticNameIndex(name: string): number {
  return nameIndex.get(name) ?? 0;
}

/** The static index of the pair `name: value`, or 0. */
export function staticPairIndex(name: string, value: string): number {
  return pairIndex.get(name)?.get(value) ?? 0;
}
