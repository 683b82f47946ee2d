/**
 * Uninitialized memory for the buffers the transports and the encoder fill completely
 * before anyone reads them: the frame writer's slabs and the encoder's output slabs.
 * A fresh zeroed 64 KiB ArrayBuffer costs ~9 µs on Node 20 (calloc and page faults), as
 * much as encoding several messages; Buffer.allocUnsafeSlow's costs ~1.6 µs. Importing
 * this module installs it for the encoder (src/protocol stays free of node: imports).
 */
import { Buffer } from "node:buffer";
import { setOutputSlabAllocator } from "../protocol/protobuf/index.js";

/** `bytes` of uninitialized memory, as a plain Uint8Array (its subarrays are cheaper than a Buffer's). */
export function uninitializedBytes(bytes: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(bytes);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

// allocUnsafeSlow never pools: the ArrayBuffer is the slab's own, byteOffset 0.
setOutputSlabAllocator((bytes) => Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer);
