import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ParsedTarget, parseTarget } from "./target.js";

describe("parseTarget", () => {
  const cases: [target: string, want: ParsedTarget][] = [
    ["localhost:50051", { scheme: "dns", addresses: [{ host: "localhost", port: 50051 }], authority: "localhost:50051" }],
    ["127.0.0.1:0", { scheme: "dns", addresses: [{ host: "127.0.0.1", port: 0 }], authority: "127.0.0.1:0" }],
    ["example.com:65535", { scheme: "dns", addresses: [{ host: "example.com", port: 65535 }], authority: "example.com:65535" }],
    ["example.com", { scheme: "dns", addresses: [{ host: "example.com", port: 443 }], authority: "example.com:443" }],
    ["dns:///example.com:8080", { scheme: "dns", addresses: [{ host: "example.com", port: 8080 }], authority: "example.com:8080" }],
    ["dns:///example.com", { scheme: "dns", addresses: [{ host: "example.com", port: 443 }], authority: "example.com:443" }],
    // The DNS server in the authority part is not the call's authority.
    ["dns://8.8.8.8/example.com:8080", { scheme: "dns", addresses: [{ host: "example.com", port: 8080 }], authority: "example.com:8080" }],
    ["dns://8.8.8.8:53/example.com", { scheme: "dns", addresses: [{ host: "example.com", port: 443 }], authority: "example.com:443" }],
    ["dns:example.com", { scheme: "dns", addresses: [{ host: "example.com", port: 443 }], authority: "example.com:443" }],
    ["dns:example.com:9", { scheme: "dns", addresses: [{ host: "example.com", port: 9 }], authority: "example.com:9" }],
    ["[::1]:50051", { scheme: "dns", addresses: [{ host: "::1", port: 50051 }], authority: "[::1]:50051" }],
    ["[::1]", { scheme: "dns", addresses: [{ host: "::1", port: 443 }], authority: "[::1]:443" }],
    ["dns:///[2001:db8::1]:80", { scheme: "dns", addresses: [{ host: "2001:db8::1", port: 80 }], authority: "[2001:db8::1]:80" }],
    ["ipv4:1.2.3.4:5", { scheme: "ipv4", addresses: [{ host: "1.2.3.4", port: 5 }], authority: "1.2.3.4:5" }],
    ["ipv4:1.2.3.4:5,6.7.8.9:10", {
      scheme: "ipv4",
      addresses: [{ host: "1.2.3.4", port: 5 }, { host: "6.7.8.9", port: 10 }],
      authority: "1.2.3.4:5",
    }],
    ["ipv4:1.2.3.4", { scheme: "ipv4", addresses: [{ host: "1.2.3.4", port: 443 }], authority: "1.2.3.4:443" }],
    ["ipv6:[::1]:50051", { scheme: "ipv6", addresses: [{ host: "::1", port: 50051 }], authority: "[::1]:50051" }],
    ["ipv6:[::1]:1,[fe80::2]:2", {
      scheme: "ipv6",
      addresses: [{ host: "::1", port: 1 }, { host: "fe80::2", port: 2 }],
      authority: "[::1]:1",
    }],
    ["ipv6:::1", { scheme: "ipv6", addresses: [{ host: "::1", port: 443 }], authority: "[::1]:443" }],
    ["unix:relative/path.sock", { scheme: "unix", addresses: [{ path: "relative/path.sock" }], authority: "localhost" }],
    ["unix:/abs/path.sock", { scheme: "unix", addresses: [{ path: "/abs/path.sock" }], authority: "localhost" }],
    ["unix:///abs/path.sock", { scheme: "unix", addresses: [{ path: "/abs/path.sock" }], authority: "localhost" }],
  ];
  for (const [target, want] of cases) {
    test(`parses ${JSON.stringify(target)}`, () => {
      assert.deepEqual(parseTarget(target), want);
    });
  }

  const invalid: [name: string, target: string][] = [
    ["an empty target", ""],
    ["a port that is not a number", "localhost:http"],
    ["a port past 65535", "localhost:65536"],
    ["a negative port", "localhost:-1"],
    ["an empty port", "localhost:"],
    ["a port with a sign", "localhost:+80"],
    ["a fractional port", "localhost:80.5"],
    ["a bracketed IPv6 address with a bad port", "[::1]:99999"],
    ["dns: with no host", "dns:"],
    ["dns:/// with no host", "dns:///"],
    ["dns://authority with no /host", "dns://8.8.8.8"],
    ["a dns host with a bad port", "dns:///example.com:abc"],
    ["ipv4: with no address", "ipv4:"],
    ["ipv4: with an empty address in the list", "ipv4:1.2.3.4:5,"],
    ["ipv4: with a bad port", "ipv4:1.2.3.4:70000"],
    ["ipv6: with a bad port", "ipv6:[::1]:x"],
    ["a bracketed address followed by junk", "[::1]x"],
    ["a bracketed address with an empty port", "[::1]:"],
    ["an unclosed bracket", "[::1:50051"],
    ["empty brackets", "[]:1"],
    ["unix: with no path", "unix:"],
    ["unix:// with no path", "unix://"],
  ];
  for (const [name, target] of invalid) {
    test(`throws a TypeError for ${name}: ${JSON.stringify(target)}`, () => {
      assert.throws(() => parseTarget(target), TypeError);
    });
  }
});
