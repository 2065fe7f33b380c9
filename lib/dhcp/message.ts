/**
 * The DHCPv4 message (RFC 2131 section 2): the fixed BOOTP header, the magic cookie and the
 * options. Decoding treats its input as hostile: every length is checked against the bytes
 * there, and whatever does not hold together is a DhcpParseError naming what is wrong.
 */
import { IPAddress } from "../ip/index.ts";
import { Option } from "./options.ts";

export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
export const FLAG_BROADCAST = 0x8000;
const HTYPE_ETHERNET = 1;
const HEADER_BYTES = 236;
const MAGIC_COOKIE = [99, 130, 83, 99];
/** RFC 1542: servers and relays may drop BOOTP messages shorter than this. */
const MINIMUM_MESSAGE_BYTES = 300;
const SNAME_OFFSET = 44;
const FILE_OFFSET = 108;

export class DhcpParseError extends Error {
  constructor(reason: string) {
    super(`malformed DHCP message: ${reason}`);
    this.name = "DhcpParseError";
  }
}

/**
 * Options by code, in the order they first appeared. A code that appears more than once is
 * one option whose data is the concatenation (RFC 3396).
 */
export class DhcpOptions {
  private readonly entries = new Map<number, Uint8Array>();

  static of(entries: Iterable<readonly [number, Uint8Array]>): DhcpOptions {
    const options = new DhcpOptions();
    for (const [code, data] of entries) options.set(code, data);
    return options;
  }

  get(code: number): Uint8Array | undefined {
    return this.entries.get(code);
  }

  has(code: number): boolean {
    return this.entries.has(code);
  }

  /** Replaces the option's data. */
  set(code: number, data: Uint8Array): void {
    if (code === Option.Pad || code === Option.End) throw new RangeError(`option ${code} carries no data`);
    this.entries.set(code, data);
  }

  /** Appends to the option's data (a repeated option, RFC 3396). */
  append(code: number, data: Uint8Array): void {
    const existing = this.entries.get(code);
    this.entries.set(code, existing ? concat(existing, data) : data);
  }

  [Symbol.iterator](): IterableIterator<[number, Uint8Array]> {
    return this.entries.entries();
  }
}

export interface DhcpMessage {
  op: typeof BOOTREQUEST | typeof BOOTREPLY;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: IPAddress;
  yiaddr: IPAddress;
  siaddr: IPAddress;
  giaddr: IPAddress;
  /** The client's hardware address (6 bytes for Ethernet). */
  chaddr: Uint8Array;
  options: DhcpOptions;
}

export const UNSPECIFIED = IPAddress.parse("0.0.0.0");

export function encodeMessage(message: DhcpMessage): Uint8Array {
  if (message.chaddr.length > 16) throw new RangeError("a hardware address has at most 16 bytes");
  const options: number[] = [...MAGIC_COOKIE];
  for (const [code, data] of message.options) {
    // Longer data goes as several options of the same code (RFC 3396).
    for (let start = 0; start === 0 || start < data.length; start += 255) {
      const part = data.subarray(start, start + 255);
      options.push(code, part.length, ...part);
    }
  }
  options.push(Option.End);
  const bytes = new Uint8Array(Math.max(HEADER_BYTES + options.length, MINIMUM_MESSAGE_BYTES));
  const view = new DataView(bytes.buffer);
  bytes[0] = message.op;
  bytes[1] = HTYPE_ETHERNET;
  bytes[2] = message.chaddr.length;
  bytes[3] = 0; // hops
  view.setUint32(4, message.xid);
  view.setUint16(8, message.secs);
  view.setUint16(10, message.flags);
  bytes.set(message.ciaddr.toBytes(), 12);
  bytes.set(message.yiaddr.toBytes(), 16);
  bytes.set(message.siaddr.toBytes(), 20);
  bytes.set(message.giaddr.toBytes(), 24);
  bytes.set(message.chaddr, 28);
  bytes.set(options, HEADER_BYTES);
  return bytes;
}

export function decodeMessage(bytes: Uint8Array): DhcpMessage {
  if (bytes.length < HEADER_BYTES + MAGIC_COOKIE.length) {
    throw new DhcpParseError(`${bytes.length} bytes, shorter than the ${HEADER_BYTES + MAGIC_COOKIE.length} of a header with the magic cookie`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const op = bytes[0]!;
  if (op !== BOOTREQUEST && op !== BOOTREPLY) throw new DhcpParseError(`op ${op} is neither BOOTREQUEST nor BOOTREPLY`);
  const hlen = bytes[2]!;
  if (hlen > 16) throw new DhcpParseError(`hardware address length ${hlen} (at most 16)`);
  if (!MAGIC_COOKIE.every((byte, index) => bytes[HEADER_BYTES + index] === byte)) throw new DhcpParseError("no DHCP magic cookie after the BOOTP header");
  const options = new DhcpOptions();
  readOptions(bytes.subarray(HEADER_BYTES + MAGIC_COOKIE.length), options, "options");
  // Option overload (52): the file and sname fields carry more options (RFC 2132 9.3).
  const overload = options.get(Option.Overload);
  if (overload) {
    if (overload.length !== 1 || overload[0]! < 1 || overload[0]! > 3) throw new DhcpParseError(`option overload (52) has the invalid value ${[...overload].join(",")}`);
    if (overload[0]! & 1) readOptions(bytes.subarray(FILE_OFFSET, FILE_OFFSET + 128), options, "file field");
    if (overload[0]! & 2) readOptions(bytes.subarray(SNAME_OFFSET, SNAME_OFFSET + 64), options, "sname field");
  }
  return {
    op,
    xid: view.getUint32(4),
    secs: view.getUint16(8),
    flags: view.getUint16(10),
    ciaddr: ipv4At(bytes, 12),
    yiaddr: ipv4At(bytes, 16),
    siaddr: ipv4At(bytes, 20),
    giaddr: ipv4At(bytes, 24),
    chaddr: bytes.slice(28, 28 + hlen),
    options,
  };
}

function readOptions(area: Uint8Array, options: DhcpOptions, where: string): void {
  let position = 0;
  while (position < area.length) {
    const code = area[position]!;
    if (code === Option.End) return;
    if (code === Option.Pad) {
      position++;
      continue;
    }
    if (position + 1 >= area.length) throw new DhcpParseError(`option ${code} in the ${where} has no length byte`);
    const length = area[position + 1]!;
    const end = position + 2 + length;
    if (end > area.length) throw new DhcpParseError(`option ${code} in the ${where} claims ${length} bytes, but only ${area.length - position - 2} are left`);
    options.append(code, area.slice(position + 2, end));
    position = end;
  }
  // RFC 2131 asks for an End option; servers that omit it at the very end are tolerated.
}

function ipv4At(bytes: Uint8Array, offset: number): IPAddress {
  return IPAddress.fromBytes(bytes.subarray(offset, offset + 4));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}
