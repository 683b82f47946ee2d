/**
 * gzip and deflate codecs on node:zlib. "deflate" is the zlib format (RFC 1950), as
 * grpc-js and C-core use it, not raw deflate. Output limits use zlib's own
 * maxOutputLength, so a decompression bomb stops at the limit instead of filling memory.
 */
import * as zlib from "node:zlib";
import { CodecRegistry, type Codec } from "../protocol/compression.js";

type ZlibFn = (buf: Uint8Array, options: zlib.ZlibOptions, cb: (err: Error | null, out: Buffer) => void) => void;

function zlibCodec(name: string, compressFn: ZlibFn, decompressFn: ZlibFn): Codec {
  return {
    name,
    compress(data) {
      return new Promise((resolve, reject) => compressFn(data, {}, (err, out) => (err ? reject(err) : resolve(out))));
    },
    decompress(data, maxBytes) {
      // maxOutputLength must be >= 1 and at most buffer.kMaxLength.
      const limit = Math.max(1, Math.min(maxBytes, 2 ** 32));
      return new Promise((resolve, reject) =>
        decompressFn(data, { maxOutputLength: limit }, (err, out) => {
          // out.length > maxBytes only when maxBytes is 0 (the limit was raised to 1 above).
          if (err === null && out.length <= maxBytes) return resolve(out);
          if (err === null || (err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") {
            return reject(new RangeError(`decompressed message is larger than ${maxBytes} bytes`));
          }
          reject(err);
        }),
      );
    },
  };
}

export const gzipCodec: Codec = zlibCodec("gzip", zlib.gzip, zlib.gunzip);
export const deflateCodec: Codec = zlibCodec("deflate", zlib.deflate, zlib.inflate);

/** The codecs Node.js sides support out of the box. */
export function defaultCodecs(): CodecRegistry {
  return new CodecRegistry([gzipCodec, deflateCodec]);
}
