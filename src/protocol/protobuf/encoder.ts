/**
 * Protobuf binary encoder compiled per message schema: the same bytes as protobuf-es's
 * toBinary (default options), measured first and then written into one exact-size
 * buffer, optionally behind the 5-byte gRPC message prefix. Pure: no node: imports.
 * Correctness first: any value or schema it cannot reproduce is handed to toBinary.
 */
import { type DescMessage, type Message, type MessageShape, protoInt64, toBinary } from "@bufbuild/protobuf";
import { encodeFrame, frameHeaderBytes, type FrameTarget, writeFrameHeader } from "../frame.js";
import { getMessageCodec } from "./compile.js";
import { EncodeState, fallback, NotAscii } from "./encode-state.js";
import type { LocalMessage } from "./local-message.js";
import { allocateOutput, maxPooledBytes, type OutputKind } from "./output-pool.js";
import { type MessageCodec, planMessage } from "./plan.js";
import { replay } from "./write-step.js";

export interface MessageEncoder<Desc extends DescMessage = DescMessage> {
  /**
   * The bytes `toBinary(desc, message)` returns, unknown fields included. Throws
   * exactly what toBinary throws for a message it rejects (a required field not set,
   * an int32 out of range, a message of another type).
   */
  encode(message: MessageShape<Desc>): Uint8Array;
  /**
   * A gRPC length-prefixed message in one buffer: byte 0 is 0 (not compressed), bytes
   * 1..4 the payload length n (big-endian uint32), then the n bytes `encode` returns.
   * Throws like `encode`.
   */
  encodeFramed(message: MessageShape<Desc>): Uint8Array;
  /**
   * `encodeFramed` into a scratch buffer that the next transient encode (of any
   * schema) overwrites, when the frame is at most maxTransientFrameBytes: for a caller
   * that copies the frame at once (the h2 transport copies small DATA into its write
   * batch), so small messages cost no allocation at all. Larger frames are the caller's own.
   */
  encodeFramedTransient(message: MessageShape<Desc>): Uint8Array;
  /**
   * `encodeFramed`'s bytes written into memory `target` lends, returning undefined,
   * when it has room for them; otherwise what `encodeFramedTransient` returns. Throws
   * like `encode`, with nothing left reserved in the target, or what the target's
   * reserveFrame throws.
   */
  encodeFramedTo(message: MessageShape<Desc>, target: FrameTarget): Uint8Array | undefined;
  /** False when every message of this schema goes through toBinary, because the
   *  schema uses something the fast path does not reproduce. */
  readonly compiled: boolean;
}

export interface MessageEncoderOptions {
  /**
   * Outputs up to 4 KiB are views into a shared 64 KiB ArrayBuffer (default true),
   * which makes small messages several times cheaper. Such a view's bytes are its own,
   * but its `.buffer` is shared: read it through byteOffset/byteLength and never
   * transfer it. With false, every output owns its buffer, as toBinary's does.
   */
  readonly pooledOutput?: boolean;
}

/** The largest frame encodeFramedTransient returns in its scratch buffer. */
export const maxTransientFrameBytes = maxPooledBytes;

const pooledEncoders = new WeakMap<DescMessage, MessageEncoder>();
const ownedEncoders = new WeakMap<DescMessage, MessageEncoder>();

/** The encoder for `desc`, built on first use and cached per descriptor. */
export function getMessageEncoder<Desc extends DescMessage>(
  desc: Desc,
  options: MessageEncoderOptions = {},
): MessageEncoder<Desc> {
  const pooled = options.pooledOutput ?? true;
  const cache = pooled ? pooledEncoders : ownedEncoders;
  let encoder = cache.get(desc);
  if (encoder === undefined) {
    encoder = createMessageEncoder(desc, pooled);
    cache.set(desc, encoder);
  }
  return encoder;
}

function createMessageEncoder(desc: DescMessage, pooled: boolean): MessageEncoder {
  const codec = compileOrUndefined(desc);
  if (codec === undefined) {
    return {
      encode: (message) => toBinary(desc, message),
      encodeFramed: (message) => encodeFrame(toBinary(desc, message)),
      encodeFramedTransient: (message) => encodeFrame(toBinary(desc, message)),
      encodeFramedTo: (message) => encodeFrame(toBinary(desc, message)),
      compiled: false,
    };
  }
  const strings = new StringStrategy();
  return {
    encode: (message) => encodeOrFallback(desc, codec, strings, message, 0, pooled ? "pooled" : "owned"),
    encodeFramed: (message) => encodeOrFallback(desc, codec, strings, message, frameHeaderBytes, pooled ? "pooled" : "owned"),
    encodeFramedTransient: (message) => encodeOrFallback(desc, codec, strings, message, frameHeaderBytes, "transient"),
    encodeFramedTo: (message, target) => encodeOrFallback(desc, codec, strings, message, frameHeaderBytes, "transient", target),
    compiled: true,
  };
}

/**
 * Whether to plan strings as ASCII, per schema. Most text on the wire is ASCII, and
 * assuming it skips measuring every string twice; a message that proves it wrong is
 * encoded again with exact measuring, and so are the next messages of the schema for
 * a while, so that non-ASCII traffic does not pay twice per message.
 */
class StringStrategy {
  private exactFor = 0;

  assumeAscii(): boolean {
    if (this.exactFor === 0) return true;
    this.exactFor--;
    return false;
  }

  sawNonAscii(): void {
    this.exactFor = exactMessagesAfterMiss;
  }
}

const exactMessagesAfterMiss = 64;

/** Without native 64-bit support protoInt64 validates decimal strings its own way;
 *  matching that is not worth it, so such runtimes use toBinary throughout. */
function compileOrUndefined(desc: DescMessage): MessageCodec | undefined {
  if (!protoInt64.supported) return undefined;
  try {
    return getMessageCodec(desc);
  } catch {
    return undefined;
  }
}

function encodeOrFallback(desc: DescMessage, codec: MessageCodec, strings: StringStrategy, message: Message, headerBytes: number, output: OutputKind): Uint8Array;
function encodeOrFallback(
  desc: DescMessage,
  codec: MessageCodec,
  strings: StringStrategy,
  message: Message,
  headerBytes: number,
  output: OutputKind,
  target: FrameTarget,
): Uint8Array | undefined;
function encodeOrFallback(
  desc: DescMessage,
  codec: MessageCodec,
  strings: StringStrategy,
  message: Message,
  headerBytes: number,
  output: OutputKind,
  target?: FrameTarget,
): Uint8Array | undefined {
  try {
    if (strings.assumeAscii()) {
      try {
        return encodeCompiled(codec, message, headerBytes, output, true, target);
      } catch (err) {
        if (!(err instanceof NotAscii)) throw err;
        strings.sawNonAscii();
      }
    }
    return encodeCompiled(codec, message, headerBytes, output, false, target);
  } catch (err) {
    if (err instanceof TargetFailure) throw err.cause;
    // A value outside the fast path, or a malformed message: toBinary encodes it its
    // own way or throws its own error for it.
    const payload = toBinary(desc, message);
    return headerBytes === 0 ? payload : encodeFrame(payload);
  }
}

/** An error of the target's own, not the message's: it reaches the caller as it is, with no toBinary retry. */
class TargetFailure extends Error {
  override readonly name = "TargetFailure";
}

function reserveIn(target: FrameTarget, bytes: number): number {
  try {
    return target.reserveFrame(bytes);
  } catch (err) {
    throw new TargetFailure("the frame target failed", { cause: err });
  }
}

let idleState: EncodeState | undefined = new EncodeState();

/**
 * The fast path alone: throws instead of falling back. `headerBytes` is 0 for a bare
 * message or frameHeaderBytes for a gRPC frame; `output` says where the bytes go;
 * `assumeAscii` as in EncodeState (throws NotAscii if a string is not); with a `target`
 * that has room, the bytes go there and it returns undefined (a throw releases them).
 * Exported for tests, which check that well-formed messages never need toBinary.
 */
export function encodeCompiled(codec: MessageCodec, message: Message, headerBytes: number, output: OutputKind, assumeAscii: boolean): Uint8Array;
export function encodeCompiled(
  codec: MessageCodec,
  message: Message,
  headerBytes: number,
  output: OutputKind,
  assumeAscii: boolean,
  target: FrameTarget | undefined,
): Uint8Array | undefined;
export function encodeCompiled(
  codec: MessageCodec,
  message: Message,
  headerBytes: number,
  output: OutputKind,
  assumeAscii: boolean,
  target?: FrameTarget,
): Uint8Array | undefined {
  const local: LocalMessage = message;
  // Encoding is synchronous, but take the state so that a re-entrant call (a getter
  // that encodes) gets its own instead of corrupting this one.
  const st = idleState ?? new EncodeState();
  idleState = undefined;
  try {
    st.begin();
    st.assumeAscii = assumeAscii;
    const size = planMessage(codec, local, st);
    const total = headerBytes + size;
    // The plan read the message; the write pass below runs no code of anyone else's,
    // so nothing else can write into the target's memory meanwhile.
    const start = target === undefined ? -1 : reserveIn(target, total);
    const out = start < 0 ? allocateOutput(total, output) : target!.frameBuffer;
    const at = start < 0 ? 0 : start;
    try {
      if (headerBytes !== 0) writeFrameHeader(out, at, 0, size);
      st.buf = out;
      st.pos = at + headerBytes;
      replay(st);
      // Cheap insurance: a miscount (a bug, or a getter that changes the message while it
      // is planned) must never produce a wrong message.
      if (st.pos !== at + total || st.lengthRead !== st.lengthCount) fallback();
    } catch (err) {
      if (start >= 0) target!.releaseFrame();
      throw err;
    }
    return start < 0 ? out : undefined;
  } finally {
    st.end();
    idleState = st;
  }
}
