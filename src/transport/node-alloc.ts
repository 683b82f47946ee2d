/**
 * Uninitialized memory for the buffers the transports and the encoder fill completely
 * before anyone reads them: the frame writer's slabs and the encoder's output slabs.
 * A fresh zeroed 64 KiB ArrayBuffer costs ~9 µs on Node 20 (calloc and page faults), as
 * much as encoding several messages; Buffer.allocUnsafeSlow's costs ~1.6 µs. Importing
 * this module installs it for the encoder (src/protocol stays free of node: imports).
 */
import { Buffer } from "node:buffer";
import { maxSlabBytes } from "../protocol/http2/frame-writer.js";
import { setOutputSlabAllocator } from "../protocol/protobuf/index.js";

/** `bytes` of uninitialized memory, as a plain Uint8Array (its subarrays are cheaper than a Buffer's). */
export function uninitializedBytes(bytes: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(bytes);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * Full 64 KiB write slabs the sockets have finished writing, shared by every connection
 * of the process (at most 16 MiB kept): a burst's slabs serve the next burst on any
 * connection instead of being allocated again.
 */
const freeWriteSlabs: Uint8Array[] = [];
const maxFreeWriteSlabs = 256;

/** A write slab of `bytes`: a written-out one when the size is a full slab's, else fresh. */
export function takeWriteSlab(bytes: number): Uint8Array {
  if (bytes === maxSlabBytes && freeWriteSlabs.length > 0) return freeWriteSlabs.pop()!;
  return uninitializedBytes(bytes);
}

/** Slabs whose bytes the socket has written (FrameWriter.takeRetired, then the write callback). */
export function returnWriteSlabs(slabs: readonly Uint8Array[]): void {
  for (const slab of slabs) {
    if (freeWriteSlabs.length >= maxFreeWriteSlabs) return;
    freeWriteSlabs.push(slab);
  }
}

const copySlabBytes = 64 * 1024;
let copySlab: Uint8Array = new Uint8Array(0);
let copySlabUsed = 0;

/**
 * A copy of `data` that the caller owns, carved from a shared slab of uninitialized
 * memory (bump-allocated, never reused, as Buffer.allocUnsafe's pool): what a transport
 * keeps of a caller's transient bytes (a stream's messages wait while the socket is
 * congested). A fresh small ArrayBuffer per copy would cost ~1 µs and add to V8's
 * external-memory pressure.
 */
export function pooledCopy(data: Uint8Array): Uint8Array {
  const n = data.length;
  if (n > copySlabBytes / 8) return data.slice();
  if (copySlabUsed + n > copySlab.length) {
    copySlab = uninitializedBytes(copySlabBytes);
    copySlabUsed = 0;
  }
  const out = copySlab.subarray(copySlabUsed, copySlabUsed + n);
  out.set(data);
  copySlabUsed += n;
  return out;
}

// allocUnsafeSlow never pools: the ArrayBuffer is the slab's own, byteOffset 0.
setOutputSlabAllocator((bytes) => Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer);
