import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type ListenAddress, parseListenAddress } from "./listen-address.js";

describe("parseListenAddress", () => {
  const cases: [address: string, want: ListenAddress][] = [
    ["0.0.0.0:0", { host: "0.0.0.0", port: 0 }],
    ["127.0.0.1:50051", { host: "127.0.0.1", port: 50051 }],
    ["localhost:65535", { host: "localhost", port: 65535 }],
    [":50051", { host: "0.0.0.0", port: 50051 }],
    [":0", { host: "0.0.0.0", port: 0 }],
    ["[::]:1", { host: "::", port: 1 }],
    ["[::1]:50051", { host: "::1", port: 50051 }],
    ["[fe80::1%eth0]:8080", { host: "fe80::1%eth0", port: 8080 }],
    ["unix:/tmp/x", { path: "/tmp/x" }],
    ["unix:///tmp/x.sock", { path: "/tmp/x.sock" }],
    ["unix:relative.sock", { path: "relative.sock" }],
  ];
  for (const [address, want] of cases) {
    test(`parses ${JSON.stringify(address)}`, () => {
      assert.deepEqual(parseListenAddress(address), want);
    });
  }

  const invalid: [name: string, address: string][] = [
    ["an empty address", ""],
    ["a host without a port", "localhost"],
    ["a host with an empty port", "localhost:"],
    ["a port that is not a number", "localhost:http"],
    ["a port past 65535", "0.0.0.0:65536"],
    ["a negative port", "0.0.0.0:-1"],
    ["an IPv6 address without brackets", "::1:50051"],
    ["a bracketed IPv6 address without a port", "[::1]"],
    ["a bracketed IPv6 address with a port past 65535", "[::]:70000"],
    ["empty brackets", "[]:1"],
    ["unix: with no path", "unix:"],
    ["unix:// with no path", "unix://"],
  ];
  for (const [name, address] of invalid) {
    test(`throws a TypeError for ${name}: ${JSON.stringify(address)}`, () => {
      assert.throws(() => parseListenAddress(address), TypeError);
    });
  }
});
