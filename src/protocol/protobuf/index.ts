/**
 * Fast Protobuf binary encoding, compiled per message schema: the bytes toBinary
 * produces, bare or as a gRPC length-prefixed message. Pure: no node: imports.
 */
export { getMessageEncoder } from "./encoder.js";
export type { MessageEncoder, MessageEncoderOptions } from "./encoder.js";
