/**
 * Memory of recently closed streams, so a late frame can be told apart from one on a
 * stream never opened, and judged by how its stream closed (RFC 9113 §5.1). A fixed
 * ring: remembering costs no allocation per stream; only late frames, which are rare,
 * search it. It forgets the oldest entries, and knows nothing of open streams.
 */

/** How a stream left the table; decides what late frames for it mean (RFC 9113 §5.1). */
export type ClosedHow = "ended" | "reset-local" | "reset-remote";

/** Closed streams remembered. */
const closedMemory = 1024;
const closedHows: readonly ClosedHow[] = ["ended", "reset-local", "reset-remote"];

export class ClosedStreams {
  private readonly ids = new Int32Array(closedMemory);
  /** How each remembered stream closed, as an index into closedHows. */
  private readonly hows = new Uint8Array(closedMemory);
  private next = 0;

  /** Records that stream `id` closed `how`, forgetting the oldest entry when full. */
  remember(id: number, how: ClosedHow): void {
    const slot = this.next;
    this.ids[slot] = id;
    this.hows[slot] = closedHows.indexOf(how);
    this.next = (slot + 1) % closedMemory;
  }

  /** How a recently closed stream closed; undefined when it is not remembered. */
  how(id: number): ClosedHow | undefined {
    // Newest first: a stream id is closed once, but the search should find it fast.
    for (let i = 1; i <= closedMemory; i++) {
      const slot = (this.next - i + closedMemory) % closedMemory;
      if (this.ids[slot] === id) return closedHows[this.hows[slot]!];
    }
    return undefined;
  }
}
