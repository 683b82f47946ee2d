/**
 * Server credentials: cleartext (h2c with prior knowledge) or TLS, with mutual TLS
 * when client certificates are required.
 */

export type ServerCredentials =
  | { readonly kind: "insecure" }
  | {
      readonly kind: "tls";
      readonly key: string | Buffer;
      readonly cert: string | Buffer;
      /** CA certificates that client certificates must chain to. */
      readonly ca?: string | Buffer | (string | Buffer)[];
      /** Mutual TLS: refuse clients without a certificate signed by `ca`. */
      readonly requireClientCert?: boolean;
    };

export const serverCredentials = {
  insecure(): ServerCredentials {
    return { kind: "insecure" };
  },
  tls(options: Omit<Extract<ServerCredentials, { kind: "tls" }>, "kind">): ServerCredentials {
    if (options.requireClientCert === true && options.ca === undefined) {
      throw new TypeError("serverCredentials.tls: requireClientCert needs the `ca` that client certificates chain to");
    }
    return { kind: "tls", ...options };
  },
};
