/**
 * Ethernet frames carrying IPv4/UDP, built and read by hand: the client talks through a packet
 * socket (packet-socket.ts) because the interface has no address yet when it asks for one, and
 * because the server's reply may be unicast to the address it is offering.
 */
import { IPAddress } from "../ip/index.ts";

export const ETH_P_IP = 0x0800;
export const DHCP_SERVER_PORT = 67;
export const DHCP_CLIENT_PORT = 68;
const ETHERNET_HEADER = 14;
const IPV4_HEADER = 20;
const UDP_HEADER = 8;
const IPPROTO_UDP = 17;
const TTL = 64;

export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const BROADCAST_IP = IPAddress.parse("255.255.255.255");

export interface UdpFrame {
  sourceMac: Uint8Array;
  destinationMac: Uint8Array;
  source: IPAddress;
  destination: IPAddress;
  sourcePort: number;
  destinationPort: number;
  payload: Uint8Array;
}

export function buildFrame(frame: UdpFrame): Uint8Array {
  const udpLength = UDP_HEADER + frame.payload.length;
  const ipLength = IPV4_HEADER + udpLength;
  const bytes = new Uint8Array(ETHERNET_HEADER + ipLength);
  const view = new DataView(bytes.buffer);
  bytes.set(frame.destinationMac, 0);
  bytes.set(frame.sourceMac, 6);
  view.setUint16(12, ETH_P_IP);

  const ip = ETHERNET_HEADER;
  bytes[ip] = 0x45; // version 4, header of 5 words
  view.setUint16(ip + 2, ipLength);
  view.setUint16(ip + 4, Math.floor(Math.random() * 0x10000)); // identification
  bytes[ip + 8] = TTL;
  bytes[ip + 9] = IPPROTO_UDP;
  bytes.set(frame.source.toBytes(), ip + 12);
  bytes.set(frame.destination.toBytes(), ip + 16);
  view.setUint16(ip + 10, checksum(bytes.subarray(ip, ip + IPV4_HEADER)));

  const udp = ip + IPV4_HEADER;
  view.setUint16(udp, frame.sourcePort);
  view.setUint16(udp + 2, frame.destinationPort);
  view.setUint16(udp + 4, udpLength);
  bytes.set(frame.payload, udp + UDP_HEADER);
  const pseudo = new Uint8Array(12 + udpLength);
  pseudo.set(frame.source.toBytes(), 0);
  pseudo.set(frame.destination.toBytes(), 4);
  pseudo[9] = IPPROTO_UDP;
  new DataView(pseudo.buffer).setUint16(10, udpLength);
  pseudo.set(bytes.subarray(udp, udp + udpLength), 12);
  view.setUint16(udp + 6, checksum(pseudo) || 0xffff); // 0 would mean "no checksum"
  return bytes;
}

/**
 * The UDP datagram in an Ethernet frame, or undefined when the frame is anything else (not
 * IPv4, not UDP, a fragment, or cut short). Checksums are the kernel's business on receipt.
 */
export function parseFrame(bytes: Uint8Array): UdpFrame | undefined {
  if (bytes.length < ETHERNET_HEADER + IPV4_HEADER + UDP_HEADER) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(12) !== ETH_P_IP) return undefined;
  const ip = ETHERNET_HEADER;
  if (bytes[ip]! >> 4 !== 4) return undefined;
  const headerLength = (bytes[ip]! & 0x0f) * 4;
  const totalLength = view.getUint16(ip + 2);
  if (headerLength < IPV4_HEADER || totalLength < headerLength + UDP_HEADER || ip + totalLength > bytes.length) return undefined;
  if (bytes[ip + 9] !== IPPROTO_UDP) return undefined;
  const fragment = view.getUint16(ip + 6);
  if (fragment & 0x3fff) return undefined; // more fragments, or not the first
  const udp = ip + headerLength;
  const udpLength = view.getUint16(udp + 4);
  if (udpLength < UDP_HEADER || udp + udpLength > ip + totalLength) return undefined;
  return {
    destinationMac: bytes.slice(0, 6),
    sourceMac: bytes.slice(6, 12),
    source: IPAddress.fromBytes(bytes.subarray(ip + 12, ip + 16)),
    destination: IPAddress.fromBytes(bytes.subarray(ip + 16, ip + 20)),
    sourcePort: view.getUint16(udp),
    destinationPort: view.getUint16(udp + 2),
    payload: bytes.slice(udp + UDP_HEADER, udp + udpLength),
  };
}

/** The Internet checksum (RFC 1071). */
function checksum(data: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length % 2) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
