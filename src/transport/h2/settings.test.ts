import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { Http2ErrorCode, SettingsId } from "../../protocol/http2/constants.js";
import { HpackEncoder } from "../../protocol/http2/hpack-encoder.js";
import { defaultH2Limits } from "./options.js";
import { PeerSettings, SettingsAckTimeout, localSettings, type WindowedStream } from "./settings.js";

test("a client announces push disabled and no stream limit; a server announces its stream limit", () => {
  const ids = (isServer: boolean) => localSettings(defaultH2Limits, isServer).map((s) => s.id);
  assert.ok(ids(false).includes(SettingsId.ENABLE_PUSH));
  assert.ok(!ids(false).includes(SettingsId.MAX_CONCURRENT_STREAMS));
  assert.ok(ids(true).includes(SettingsId.MAX_CONCURRENT_STREAMS));
  assert.ok(!ids(true).includes(SettingsId.ENABLE_PUSH));
});

/** A stream whose send window starts at the RFC default. */
function windowed(id: number): WindowedStream & { sendWindow: number } {
  return {
    id,
    sendWindow: 65_535,
    adjustSendWindow(delta) {
      this.sendWindow += delta;
      return this.sendWindow <= 2_147_483_647;
    },
  };
}

const applyCases: [string, { id: number; value: number }[], boolean, number | undefined][] = [
  ["MAX_FRAME_SIZE and MAX_CONCURRENT_STREAMS", [{ id: SettingsId.MAX_FRAME_SIZE, value: 32_768 }, { id: SettingsId.MAX_CONCURRENT_STREAMS, value: 10 }], false, undefined],
  ["an unknown setting (ignored)", [{ id: 0x99, value: 1 }], false, undefined],
  ["ENABLE_PUSH 1 sent to a client", [{ id: SettingsId.ENABLE_PUSH, value: 1 }], false, Http2ErrorCode.PROTOCOL_ERROR],
  ["ENABLE_PUSH 1 sent to a server", [{ id: SettingsId.ENABLE_PUSH, value: 1 }], true, undefined],
  ["an INITIAL_WINDOW_SIZE that overflows a stream window", [{ id: SettingsId.INITIAL_WINDOW_SIZE, value: 2_147_483_647 }], false, Http2ErrorCode.FLOW_CONTROL_ERROR],
];
for (const [name, settings, isServer, code] of applyCases) {
  test(`applying ${name} gives ${code === undefined ? "no error" : `error ${code}`}`, () => {
    const stream = windowed(1);
    stream.sendWindow = 100_000; // has received WINDOW_UPDATEs
    const error = new PeerSettings().apply(settings, isServer, new HpackEncoder(), new Map([[1, stream]]));
    assert.equal(error?.code, code);
  });
}

test("applies values in order, moving every stream window by the change in INITIAL_WINDOW_SIZE", () => {
  const peer = new PeerSettings();
  const streams = new Map([[1, windowed(1)], [3, windowed(3)]]);
  const error = peer.apply([
    { id: SettingsId.INITIAL_WINDOW_SIZE, value: 100_000 },
    { id: SettingsId.INITIAL_WINDOW_SIZE, value: 1_000 },
    { id: SettingsId.MAX_FRAME_SIZE, value: 20_000 },
  ], false, new HpackEncoder(), streams);
  assert.equal(error, undefined);
  assert.equal(peer.initialWindowSize, 1_000);
  assert.equal(peer.maxFrameSize, 20_000);
  assert.deepEqual([...streams.values()].map((s) => s.sendWindow), [1_000, 1_000]);
});

test("SETTINGS unacknowledged after timeoutMs time out; acknowledged ones do not", async () => {
  let timedOut = 0;
  const late = new SettingsAckTimeout(20, () => timedOut++);
  late.sent();
  const acked = new SettingsAckTimeout(20, () => assert.fail("acknowledged SETTINGS timed out"));
  acked.sent();
  acked.sent();
  acked.acked();
  acked.acked();
  await sleep(60);
  assert.equal(timedOut, 1);
});

test("the ACK timer waits for every SETTINGS sent, and stop ends it", async () => {
  let timedOut = 0;
  const pending = new SettingsAckTimeout(20, () => timedOut++);
  pending.sent();
  pending.sent();
  pending.acked();
  const stopped = new SettingsAckTimeout(20, () => assert.fail("stopped timer fired"));
  stopped.sent();
  stopped.stop();
  await sleep(60);
  assert.equal(timedOut, 1);
});
