/**
 * Connection management against @grpc/grpc-js as the independent client: its channel
 * takes our two-phase "max_age" GOAWAYs as routine (no call fails across age cycles),
 * and answers our "too_many_pings" GOAWAY by doubling its keepalive time, as A8 says.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createJsClient, grpc, jsUnary, type JsEchoClient } from "../helpers/grpc-js.js";
import { startOpsServer, type OpsServer } from "./fixture.js";

describe("a @grpc/grpc-js client and max connection age", () => {
  let s: OpsServer;
  let client: JsEchoClient;
  before(async () => {
    s = await startOpsServer({ maxConnectionAgeMs: 150 });
    client = createJsClient(s.target);
  });
  after(async () => {
    client.close();
    await s.close();
  });

  test("calls under load across several age cycles all succeed", async () => {
    const end = performance.now() + 2_000;
    const failures: string[] = [];
    let completed = 0;
    await Promise.all(Array.from({ length: 6 }, async (_, id) => {
      for (let i = 0; performance.now() < end; i++) {
        try {
          const { response } = await jsUnary(client, { message: `js${id}.${i}`, delayMs: i % 3 === 0 ? 40 : 0 }).result;
          assert.equal(response.message, `js${id}.${i}`);
          completed++;
        } catch (err) {
          failures.push(String(err));
        }
      }
    }));
    assert.deepEqual(failures, []);
    assert.ok(completed > 50, `only ${completed} calls completed`);
    const connections = new Set(s.peers).size;
    assert.ok(connections >= 4, `only ${connections} connections were used`);
  });
});

describe("a @grpc/grpc-js client and ping policing", () => {
  let s: OpsServer;
  let client: JsEchoClient;
  before(async () => {
    s = await startOpsServer({ keepaliveMinPingIntervalMs: 300 });
    client = createJsClient(s.target, { "grpc.keepalive_time_ms": 100, "grpc.keepalive_timeout_ms": 5_000 });
  });
  after(async () => {
    client.close();
    await s.close();
  });

  test("pinging more often than permitted gets too_many_pings; after doubling its keepalive time a long call succeeds", async () => {
    // grpc-js logs (at error level) each doubling; its messages are the evidence here.
    const logged: string[] = [];
    grpc.setLogger({ error: (...args: unknown[]) => logged.push(args.map(String).join(" ")) });
    const failures: grpc.ServiceError[] = [];
    let reply: string | undefined;
    for (let attempt = 0; attempt < 5 && reply === undefined; attempt++) {
      try {
        reply = (await jsUnary(client, { message: "patient", delayMs: 1_500 }).result).response.message;
      } catch (err) {
        failures.push(err as grpc.ServiceError);
      }
    }
    assert.equal(reply, "patient", `no call survived: ${failures.map((e) => e.message).join("; ")}`);
    assert.ok(failures.length >= 1 && failures.length <= 2, `${failures.length} calls failed`);
    // grpc-js fails a call on a connection closed with ENHANCE_YOUR_CALM as RESOURCE_EXHAUSTED.
    for (const failure of failures) assert.equal(failure.code, grpc.status.RESOURCE_EXHAUSTED, failure.message);
    const doublings = logged.filter((line) => /excess pings\. Increasing ping interval/.test(line));
    assert.ok(doublings.length >= failures.length, `${doublings.length} doublings for ${failures.length} failures: ${logged.join("; ")}`);
  });
});
