/**
 * The contract every load-balancing policy keeps, run against pick_first and
 * round_robin with real subchannels connecting to real HTTP/2 listeners on 127.0.0.1:
 * READY with a picker that returns a connected subchannel; TRANSIENT_FAILURE with a
 * failing picker when there is nothing to connect to; every subchannel released by
 * close(); the same addresses delivered again change nothing.
 */
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import * as net from "node:net";
import { after, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Code } from "../../protocol/status.js";
import { NodeHttp2ClientTransport } from "../../transport/node-http2/client.js";
import type { ConnectivityState } from "../connectivity.js";
import type { Address } from "../resolver/resolver.js";
import { SubchannelPool, type Connector, type Subchannel } from "../subchannel.js";
import { getLbPolicyFactory, type LbPolicy, type Picker } from "./index.js";

interface Listener {
  readonly address: Address;
  close(): Promise<void>;
}

/** An HTTP/2 listener on 127.0.0.1 (no gRPC: a subchannel only needs the connection). */
async function listen(): Promise<Listener> {
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("error", () => undefined);
    s.once("close", () => sessions.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: { host: "127.0.0.1", port: (server.address() as AddressInfo).port },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An address nothing listens on. */
async function refusedAddress(): Promise<Address> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return { host: "127.0.0.1", port };
}

const connector: Connector = (address, handlers) =>
  new NodeHttp2ClientTransport({ address, onConnect: handlers.onConnect, onClose: handlers.onClose, onGoaway: handlers.onGoaway });

/** A policy under test with the channel's side played by a recorder. */
function harness(policyName: string) {
  const pool = new SubchannelPool();
  const created: Subchannel[] = [];
  const states: ConnectivityState[] = [];
  let picker: Picker | undefined;
  let reresolutions = 0;
  const policy: LbPolicy = getLbPolicyFactory(policyName)!.create({
    createSubchannel: (address) => {
      const sc = pool.get(address, "test", connector, { initialBackoffMs: 50, maxBackoffMs: 200, minConnectTimeoutMs: 2_000 });
      created.push(sc);
      return sc;
    },
    updateState: (state, next) => {
      if (states.at(-1) !== state) states.push(state);
      picker = next;
    },
    requestReresolution: () => reresolutions++,
  });
  return {
    policy,
    pool,
    created,
    states,
    picker: () => picker,
    reresolutions: () => reresolutions,
    async until(state: ConnectivityState, timeoutMs = 5_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (states.at(-1) !== state && Date.now() < deadline) await sleep(5);
      assert.equal(states.at(-1), state, `states: ${states.join(" → ")}`);
    },
  };
}

const listeners: Listener[] = [];
after(async () => {
  await Promise.all(listeners.map((l) => l.close()));
});

for (const name of ["pick_first", "round_robin"]) {
  describe(`${name} (shared balancer contract)`, () => {
    test("goes READY and picks a connected subchannel", async () => {
      const live = await listen();
      listeners.push(live);
      const h = harness(name);
      h.policy.updateAddresses([live.address], {});
      h.policy.exitIdle();
      await h.until("READY");
      const result = h.picker()!.pick();
      assert.equal(result.type, "complete");
      if (result.type === "complete") {
        assert.deepEqual(result.subchannel.address, live.address);
        assert.ok(result.subchannel.getTransport() !== undefined);
      }
      h.policy.close();
    });

    test("reports TRANSIENT_FAILURE with an UNAVAILABLE picker when no address connects", async () => {
      const h = harness(name);
      h.policy.updateAddresses([await refusedAddress(), await refusedAddress()], {});
      h.policy.exitIdle();
      await h.until("TRANSIENT_FAILURE");
      const result = h.picker()!.pick();
      assert.equal(result.type, "fail");
      if (result.type === "fail") {
        assert.equal(result.error.code, Code.UNAVAILABLE);
        assert.match(result.error.message, /ECONNREFUSED/);
      }
      h.policy.close();
    });

    test("reports TRANSIENT_FAILURE when the resolver gives no addresses", async () => {
      const h = harness(name);
      h.policy.exitIdle();
      h.policy.updateAddresses([], {});
      await h.until("TRANSIENT_FAILURE");
      const result = h.picker()!.pick();
      assert.ok(result.type === "fail" && /no addresses/.test(result.error.message));
      h.policy.close();
    });

    test("close() releases every subchannel it created", async () => {
      const live = await listen();
      listeners.push(live);
      const h = harness(name);
      h.policy.updateAddresses([live.address, await refusedAddress()], {});
      h.policy.exitIdle();
      await h.until("READY");
      assert.ok(h.pool.size > 0);
      h.policy.close();
      assert.equal(h.pool.size, 0);
      assert.ok(h.created.every((sc) => sc.state === "SHUTDOWN"));
    });

    test("the same addresses delivered again keep the policy working (a re-resolution)", async () => {
      const live = await listen();
      listeners.push(live);
      const h = harness(name);
      h.policy.updateAddresses([live.address], {});
      h.policy.exitIdle();
      await h.until("READY");
      h.policy.updateAddresses([live.address], {});
      // Lose the connection and connect again: the policy must still hear its subchannel.
      await live.close();
      await h.until(name === "pick_first" ? "IDLE" : "TRANSIENT_FAILURE");
      const again = await listenOn(live.address);
      listeners.push(again);
      h.policy.updateAddresses([live.address], {});
      h.policy.exitIdle();
      await h.until("READY");
      assert.ok(h.reresolutions() >= 1, "a lost connection asks for re-resolution");
      h.policy.close();
    });
  });
}

async function liveListener(): Promise<Listener> {
  const l = await listen();
  listeners.push(l);
  return l;
}

const picked = (picker: Picker | undefined): string => {
  const result = picker!.pick();
  assert.equal(result.type, "complete");
  return result.type === "complete" ? result.subchannel.key : "";
};

describe("pick_first", () => {
  test("connects to the addresses in order and uses the first that connects for every pick", async () => {
    const [a, b] = [await liveListener(), await liveListener()];
    const dead = await refusedAddress();
    const h = harness("pick_first");
    h.policy.updateAddresses([dead, a.address, b.address], {});
    h.policy.exitIdle();
    await h.until("READY");
    const keys = Array.from({ length: 5 }, () => picked(h.picker()));
    assert.deepEqual(new Set(keys), new Set([`127.0.0.1:${(a.address as { port: number }).port}`]));
    assert.equal(h.created.find((sc) => sc.key.endsWith(`:${(b.address as { port: number }).port}`))?.state, "IDLE", "the third address is never tried");
    h.policy.close();
  });

  test("does not connect before exitIdle", async () => {
    const a = await liveListener();
    const h = harness("pick_first");
    h.policy.updateAddresses([a.address], {});
    await sleep(100);
    assert.deepEqual(h.states, []);
    assert.ok(h.created.every((sc) => sc.state === "IDLE"));
    h.policy.close();
  });
});

describe("round_robin", () => {
  test("rotates picks over every READY subchannel", async () => {
    const backends = [await liveListener(), await liveListener(), await liveListener()];
    const h = harness("round_robin");
    h.policy.updateAddresses(backends.map((b) => b.address), {});
    h.policy.exitIdle();
    const deadline = Date.now() + 5_000;
    while (h.created.some((sc) => sc.state !== "READY") && Date.now() < deadline) await sleep(5);
    const keys = Array.from({ length: 9 }, () => picked(h.picker()));
    assert.equal(new Set(keys).size, 3);
    for (let i = 3; i < keys.length; i++) assert.equal(keys[i], keys[i - 3], `picks rotate: ${keys.join(" ")}`);
    h.policy.close();
  });

  test("drops a subchannel whose connection is lost from the rotation", async () => {
    const [a, b] = [await liveListener(), await liveListener()];
    const h = harness("round_robin");
    h.policy.updateAddresses([a.address, b.address], {});
    h.policy.exitIdle();
    const deadline = Date.now() + 5_000;
    while (h.created.some((sc) => sc.state !== "READY") && Date.now() < deadline) await sleep(5);
    await b.close();
    const bKey = `127.0.0.1:${(b.address as { port: number }).port}`;
    while (h.created.find((sc) => sc.key === bKey)?.state === "READY" && Date.now() < deadline) await sleep(5);
    const keys = new Set(Array.from({ length: 6 }, () => picked(h.picker())));
    assert.deepEqual([...keys], [`127.0.0.1:${(a.address as { port: number }).port}`]);
    assert.equal(h.states.at(-1), "READY");
    h.policy.close();
  });
});

/** An HTTP/2 listener on a given address (to bring a backend back on its port). */
async function listenOn(address: Address): Promise<Listener> {
  if (!("port" in address)) throw new Error("TCP only");
  const server = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("error", () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(address.port, address.host, resolve));
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
