/**
 * Output buffers for the encoder. A fresh typed array costs more than encoding a small
 * message (V8 allocates and tracks a backing store for anything over 64 bytes), so small
 * outputs are carved from a shared slab, as Node's Buffer.allocUnsafe does from its pool.
 * Pure: no node: imports. Every carved range is fresh (never handed out twice) and the
 * encoder writes each of its bytes, so slabs need not be zeroed: Node's transports
 * install an allocator that skips it (setOutputSlabAllocator), since zeroing a fresh
 * 64 KiB buffer costs more than encoding the messages it then holds.
 */

/** Slab size: one allocation serves at least 16 pooled messages. */
const slabBytes = 64 * 1024;

/** Larger outputs get their own buffer: the copy dwarfs the allocation, and a
 *  retained view should not pin much more memory than its own bytes. Node's pool
 *  uses the same threshold (half its 8 KiB pool). */
export const maxPooledBytes = 4 * 1024;

/** Makes a slab of `bytes`; the default zeroes it, as every ArrayBuffer is. */
export type SlabAllocator = (bytes: number) => ArrayBuffer;

let allocateSlab: SlabAllocator = (bytes) => new ArrayBuffer(bytes);

/** Replaces how slabs are made (Node: uninitialized memory, see transport/node-alloc.ts). */
export function setOutputSlabAllocator(allocate: SlabAllocator): void {
  allocateSlab = allocate;
  slab = new ArrayBuffer(0);
  slabUsed = 0;
}

let slab = new ArrayBuffer(0);
let slabUsed = 0;

/**
 * Where an encoder's output goes: its own buffer, a view into a shared pool slab (its
 * bytes are its own), or a view into one scratch buffer that the next "transient"
 * output overwrites (the caller consumes or copies it first; only up to maxPooledBytes,
 * larger outputs are "owned").
 */
export type OutputKind = "owned" | "pooled" | "transient";

let scratch = new Uint8Array(0);

/**
 * A Uint8Array of `n` bytes of the given kind (zeroed only when owned: the caller
 * writes every byte). With `pooled`, and for `n` up to maxPooledBytes,
 * it is a view into a shared ArrayBuffer: its bytes are its own, but `.buffer` is
 * shared, so readers must honour byteOffset/byteLength and must not transfer it.
 */
export function allocateOutput(n: number, kind: OutputKind): Uint8Array {
  if (kind === "owned" || n > maxPooledBytes) return new Uint8Array(n);
  if (kind === "transient") {
    // Reused while hot in cache: no allocation, no garbage.
    if (scratch.length < n) scratch = new Uint8Array(maxPooledBytes);
    return scratch.subarray(0, n);
  }
  // A transferred (detached) slab has byteLength 0 and is replaced here too.
  if (slabUsed + n > slab.byteLength) {
    slab = allocateSlab(slabBytes);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  // 8-byte aligned starts, so a caller can lay any typed array over a copy-free view.
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}
