/**
 * Subchannel sharing: two channels to the same address with the same connection options
 * use one subchannel, so one TCP connection carries both channels' calls (the server
 * sees one peer address); channels whose options differ get their own connection.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createChannel, createClient, credentials, type Channel, type ChannelOptions } from "../../src/index.js";
import { SubchannelPool } from "../../src/client/subchannel.js";
import { Echo } from "../gen/echo_pb.js";
import { echoService, startServer, testTransport, type TestServer } from "../helpers/server.js";

let server: TestServer;
/** ctx.peer.address per call, keyed by the request message. */
const peerOf = new Map<string, string>();

before(async () => {
  server = await startServer((s) =>
    s.add(Echo, {
      ...echoService,
      unary: (req, ctx) => {
        peerOf.set(req.message, ctx.peer.address);
        return echoService.unary!(req, ctx);
      },
    }),
  );
});

const channels: Channel[] = [];
after(async () => {
  for (const channel of channels) channel.close();
  await server.close();
});

function open(options: ChannelOptions = {}, creds = credentials.insecure()): Channel {
  const channel = createChannel(server.target, creds, { transport: testTransport, ...options });
  channels.push(channel);
  return channel;
}

/** The server-side peer address of one call made on `channel`. */
async function peerSeenFrom(channel: Channel, tag: string): Promise<string> {
  await createClient(Echo, channel).unary({ message: tag }, { timeoutMs: 5_000 });
  const peer = peerOf.get(tag);
  assert.ok(peer !== undefined);
  return peer;
}

test("two channels with the same options share one connection", async () => {
  const pool = new SubchannelPool();
  const a = open({ subchannelPool: pool });
  const b = open({ subchannelPool: pool });
  const peerA = await peerSeenFrom(a, "shared a");
  const peerB = await peerSeenFrom(b, "shared b");
  assert.equal(peerA, peerB);
  assert.equal(pool.size, 1);
});

test("channels share through the global pool by default", async () => {
  const a = open();
  const b = open();
  assert.equal(await peerSeenFrom(a, "global a"), await peerSeenFrom(b, "global b"));
});

test("closing one sharing channel leaves the connection to the other", async () => {
  const pool = new SubchannelPool();
  const a = open({ subchannelPool: pool });
  const b = open({ subchannelPool: pool });
  const before = await peerSeenFrom(a, "before close");
  assert.equal(await peerSeenFrom(b, "b before close"), before);
  a.close();
  assert.equal(await peerSeenFrom(b, "after close"), before);
  assert.equal(pool.size, 1);
  b.close();
  assert.equal(pool.size, 0, "the last channel's close releases the subchannel");
});

test("channels whose connection options differ do not share", async () => {
  const pool = new SubchannelPool();
  const plain = open({ subchannelPool: pool });
  const keepalive = open({ subchannelPool: pool, keepaliveTimeMs: 60_000 });
  // Options that do not touch the connection do not prevent sharing.
  const otherLimits = open({ subchannelPool: pool, maxReceiveMessageBytes: 1024 }, credentials.insecure());
  const peers = [
    await peerSeenFrom(plain, "differ plain"),
    await peerSeenFrom(keepalive, "differ keepalive"),
    await peerSeenFrom(otherLimits, "differ limits"),
  ];
  assert.equal(peers[2], peers[0]);
  assert.notEqual(peers[1], peers[0]);
  assert.equal(pool.size, 2);
});

test("channels with different pools do not share", async () => {
  const a = open({ subchannelPool: new SubchannelPool() });
  const b = open({ subchannelPool: new SubchannelPool() });
  assert.notEqual(await peerSeenFrom(a, "pool a"), await peerSeenFrom(b, "pool b"));
});
