/**
 * Protobuf binary decoder compiled per message schema: the message protobuf-es's
 * fromBinary (default options) returns, property for property, for the same bytes.
 * Pure: no node: imports. Correctness first: a schema it cannot reproduce, and any
 * input it rejects, is handed to fromBinary, which decodes or throws its own error.
 */
import { type DescMessage, fromBinary, type MessageShape, protoInt64 } from "@bufbuild/protobuf";
import { getMessageDecodePlan } from "./decode-compile.js";
import { readMessage } from "./decode-message.js";
import type { DecodedMessage, MessageDecodePlan } from "./decode-plan.js";
import { ReadState } from "./decode-reader.js";
import { textDecoderAvailable } from "./decode-utf8.js";

export interface MessageDecoder<Desc extends DescMessage = DescMessage> {
  /**
   * What `fromBinary(desc, bytes)` returns: the same properties in the same order,
   * unknown fields in `$unknown`, bytes fields as views of `bytes` (so they change
   * if `bytes` does). Throws what fromBinary throws for input it rejects (truncated
   * data, an invalid tag or wire type, invalid UTF-8 where the field validates it,
   * nesting deeper than 100). With `start` and `end`, the message is those bytes of
   * `bytes` (a received chunk, say), as if given `bytes.subarray(start, end)`.
   */
  decode(bytes: Uint8Array, start?: number, end?: number): MessageShape<Desc>;
  /** False when every message of this schema goes through fromBinary, because the
   *  schema uses something the fast path does not reproduce. */
  readonly compiled: boolean;
}

const decoders = new WeakMap<DescMessage, MessageDecoder>();

/** The decoder for `desc`, built on first use and cached per descriptor. */
export function getMessageDecoder<Desc extends DescMessage>(desc: Desc): MessageDecoder<Desc> {
  let decoder = decoders.get(desc);
  if (decoder === undefined) {
    decoder = createMessageDecoder(desc);
    decoders.set(desc, decoder);
  }
  // The cache is keyed by the descriptor, so the decoder is the one for Desc.
  return decoder as MessageDecoder<Desc>;
}

function createMessageDecoder<Desc extends DescMessage>(desc: Desc): MessageDecoder<Desc> {
  const plan = compileOrUndefined(desc);
  if (plan === undefined) return { decode: (bytes, start = 0, end = bytes.length) => fromBinary(desc, range(bytes, start, end)), compiled: false };
  return {
    decode(bytes, start = 0, end = bytes.length) {
      checkRange(bytes, start, end);
      try {
        // The plan was compiled from desc, so the message has desc's shape.
        return decodeCompiled(plan, bytes, start, end) as MessageShape<Desc>;
      } catch {
        // Malformed input: fromBinary throws its own error for it (or, should the fast
        // path ever reject what fromBinary accepts, decodes it).
        return fromBinary(desc, range(bytes, start, end));
      }
    },
    compiled: true,
  };
}

/** `bytes` from `start` to `end`, without a view when that is all of it. */
function range(bytes: Uint8Array, start: number, end: number): Uint8Array {
  checkRange(bytes, start, end);
  return start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end);
}

function checkRange(bytes: Uint8Array, start: number, end: number): void {
  if (start < 0 || end > bytes.length || start > end) throw new RangeError(`no bytes ${start} to ${end} in ${bytes.length}`);
}

/** Without native 64-bit integers protobuf-es decodes them as strings its own way,
 *  and without TextDecoder fromBinary cannot read strings at all; both use fromBinary. */
function compileOrUndefined(desc: DescMessage): MessageDecodePlan | undefined {
  if (!protoInt64.supported || !textDecoderAvailable) return undefined;
  try {
    return getMessageDecodePlan(desc);
  } catch {
    return undefined;
  }
}

let idleState: ReadState | undefined = new ReadState();

/**
 * The fast path alone: throws where fromBinary throws (with its own messages, not
 * fromBinary's) instead of falling back. Exported for tests, which check that it
 * accepts and rejects exactly what fromBinary does.
 */
export function decodeCompiled(plan: MessageDecodePlan, bytes: Uint8Array, start = 0, end = bytes.length): DecodedMessage {
  // Decoding runs no user code, but take the state anyway, so that nothing can
  // share it by accident.
  const st = idleState ?? new ReadState();
  idleState = undefined;
  try {
    st.begin(bytes, start, end);
    const message = plan.factory();
    readMessage(plan, message, st, end, 1, 0, false);
    return message;
  } finally {
    st.end();
    idleState = st;
  }
}
