/**
 * Fast Protobuf binary encoding, compiled per message schema: the bytes toBinary
 * produces, bare or as a gRPC length-prefixed message. Pure: no node: imports.
 */
export { getMessageEncoder, maxTransientFrameBytes } from "./encoder.js";
export type { MessageEncoder, MessageEncoderOptions } from "./encoder.js";
export { setOutputSlabAllocator, type SlabAllocator } from "./output-pool.js";
