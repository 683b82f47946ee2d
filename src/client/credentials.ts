/**
 * Channel credentials (cleartext or TLS, with a client certificate for mutual TLS)
 * and call credentials (metadata such as a bearer token, attached per call). Call
 * credentials refuse to travel over a cleartext channel unless explicitly allowed.
 */
import { Metadata } from "../protocol/metadata.js";

export type ChannelCredentials =
  | { readonly kind: "insecure"; readonly callCredentials: readonly CallCredentials[] }
  | {
      readonly kind: "tls";
      /** Trusted CA certificates; the system's roots when absent. */
      readonly ca?: string | Buffer | (string | Buffer)[];
      /** Client certificate and key, for mutual TLS. */
      readonly cert?: string | Buffer;
      readonly key?: string | Buffer;
      /** The name to verify the server certificate against (and send as SNI and :authority). */
      readonly serverNameOverride?: string;
      readonly callCredentials: readonly CallCredentials[];
    };

export interface CallCredentialsContext {
  /** The full method path, "/package.Service/Method". */
  readonly methodPath: string;
  /** The :authority the call goes to. */
  readonly authority: string;
}

/** Produces metadata for each call, e.g. a bearer token fetched or refreshed on demand. */
export interface CallCredentials {
  readonly kind: "call";
  generateMetadata(context: CallCredentialsContext): Promise<Metadata> | Metadata;
  /** Send over cleartext connections too. Off by default: a token must not leak in the clear. */
  readonly allowInsecure: boolean;
}

export const credentials = {
  /** Cleartext HTTP/2 (h2c with prior knowledge). */
  insecure(): ChannelCredentials {
    return { kind: "insecure", callCredentials: [] };
  },
  /** TLS with ALPN h2. Pass `cert` and `key` for mutual TLS. */
  tls(options: { ca?: string | Buffer | (string | Buffer)[]; cert?: string | Buffer; key?: string | Buffer; serverNameOverride?: string } = {}): ChannelCredentials {
    if ((options.cert === undefined) !== (options.key === undefined)) {
      throw new TypeError("credentials.tls: a client certificate needs both `cert` and `key`");
    }
    return { kind: "tls", ...options, callCredentials: [] };
  },
  /** Call credentials from a function that returns metadata for each call. */
  fromMetadataGenerator(
    generate: (context: CallCredentialsContext) => Promise<Metadata> | Metadata,
    options: { allowInsecure?: boolean } = {},
  ): CallCredentials {
    return { kind: "call", generateMetadata: generate, allowInsecure: options.allowInsecure === true };
  },
  /** `authorization: Bearer <token>` on every call; `token` may be a function to refresh it. */
  bearerToken(token: string | (() => string | Promise<string>), options: { allowInsecure?: boolean } = {}): CallCredentials {
    return credentials.fromMetadataGenerator(async () => {
      const value = typeof token === "string" ? token : await token();
      return new Metadata().set("authorization", `Bearer ${value}`);
    }, options);
  },
  /** Channel credentials that add call credentials to every call on the channel. */
  combine(channel: ChannelCredentials, ...calls: CallCredentials[]): ChannelCredentials {
    return { ...channel, callCredentials: [...channel.callCredentials, ...calls] };
  },
};
