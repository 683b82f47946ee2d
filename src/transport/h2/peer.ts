/**
 * Peer descriptions for connections on node:net and node:tls sockets, in the form
 * gRPC names peers ("ipv4:127.0.0.1:1234", "ipv6:[::1]:1234", "unix:").
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { PeerInfo } from "../types.js";

export function peerInfoOf(socket: Socket | TLSSocket): PeerInfo {
  const secure = "encrypted" in socket && socket.encrypted === true;
  let address: string;
  if (socket.remoteAddress === undefined) address = "unix:";
  else if (socket.remoteFamily === "IPv6") address = `ipv6:[${socket.remoteAddress}]:${socket.remotePort}`;
  else address = `ipv4:${socket.remoteAddress}:${socket.remotePort}`;
  let certificate: PeerInfo["certificate"];
  if (secure) {
    const cert = (socket as TLSSocket).getPeerCertificate();
    if (cert !== null && Object.keys(cert).length > 0) certificate = cert;
  }
  return { address, secure, certificate };
}
