/**
 * PINGs we sent whose ACK someone waits for (keepalive, the two-phase GOAWAY), matched
 * by their 8 bytes of opaque data (RFC 9113 §6.7). Answering the peer's PINGs, and
 * policing them, is the connection's business, not this file's.
 */
import type { ConnectionOutput } from "./connection-output.js";

export class OutstandingPings {
  private readonly waiters = new Map<string, () => void>();

  constructor(private readonly output: ConnectionOutput) {}

  /** Sends a PING and calls `onAck` when its ACK arrives; a PING with the same data replaces the waiter. */
  send(opaqueData: Uint8Array, onAck: () => void): void {
    this.waiters.set(pingKey(opaqueData), onAck);
    this.output.writer.ping(opaqueData, false);
    this.output.scheduleFlush();
  }

  /** A PING ACK arrived: its waiter runs, once; an ACK nobody waits for is ignored. */
  acked(opaqueData: Uint8Array): void {
    const key = pingKey(opaqueData);
    const waiter = this.waiters.get(key);
    if (waiter === undefined) return;
    this.waiters.delete(key);
    waiter();
  }

  /** The socket is gone: no ACK will come, and no waiter is called. */
  clear(): void {
    this.waiters.clear();
  }
}

function pingKey(data: Uint8Array): string {
  let s = "";
  for (let i = 0; i < 8; i++) s += String.fromCharCode(data[i]!);
  return s;
}
