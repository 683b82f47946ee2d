/**
 * Output buffers for the encoder. A fresh typed array costs more than encoding a small
 * message (V8 allocates and tracks a backing store for anything over 64 bytes), so small
 * outputs are carved from a shared slab, as Node's Buffer.allocUnsafe does from its pool.
 * Pure: no node: imports. Every carved range is fresh (zeroed, never handed out twice).
 */

/** Slab size: one allocation serves at least 16 pooled messages. */
const slabBytes = 64 * 1024;

/** Larger outputs get their own buffer: the copy dwarfs the allocation, and a
 *  retained view should not pin much more memory than its own bytes. Node's pool
 *  uses the same threshold (half its 8 KiB pool). */
export const maxPooledBytes = 4 * 1024;

let slab = new ArrayBuffer(0);
let slabUsed = 0;

/**
 * A zeroed Uint8Array of `n` bytes. With `pooled`, and for `n` up to maxPooledBytes,
 * it is a view into a shared ArrayBuffer: its bytes are its own, but `.buffer` is
 * shared, so readers must honour byteOffset/byteLength and must not transfer it.
 */
export function allocateOutput(n: number, pooled: boolean): Uint8Array {
  if (!pooled || n > maxPooledBytes) return new Uint8Array(n);
  // A transferred (detached) slab has byteLength 0 and is replaced here too.
  if (slabUsed + n > slab.byteLength) {
    slab = new ArrayBuffer(slabBytes);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, n);
  // 8-byte aligned starts, so a caller can lay any typed array over a copy-free view.
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}
