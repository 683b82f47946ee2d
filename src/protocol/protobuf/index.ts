/**
 * Fast Protobuf binary encoding and decoding, compiled per message schema: the bytes
 * toBinary produces, bare or as a gRPC length-prefixed message, the messages
 * fromBinary returns, and the ones create makes of init objects. Pure: no node: imports.
 */
export { getMessageDecoder } from "./decoder.js";
export type { MessageDecoder } from "./decoder.js";
export { getMessageEncoder, maxTransientFrameBytes } from "./encoder.js";
export type { MessageEncoder, MessageEncoderOptions } from "./encoder.js";
export { getMessageMaker, type MessageMaker } from "./init-message.js";
export { setOutputSlabAllocator, type SlabAllocator } from "./output-pool.js";
