/**
 * Our own HTTP/2 transport (RFC 9113, HPACK RFC 7541) on node:net and node:tls,
 * behind the transport seam of ../types.ts. The public API of this folder, by name.
 */
export { listenH2, type H2ServerOptions, type ListenTarget } from "./server.js";
export { H2ClientTransport, type H2ConnectOptions } from "./client.js";
export { defaultH2Limits, type H2Limits, type H2Options, type RateLimit } from "./options.js";
