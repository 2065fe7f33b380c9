/**
 * IP and MAC addresses as text <-> the bytes netlink carries (network byte order).
 * Only conversion lives here; prefix arithmetic belongs to lib/ip.
 */

export type IpFamily = 4 | 6;

/** An address or prefix as netlink wants it: family, bytes and prefix length. */
export interface Prefix {
  readonly family: IpFamily;
  readonly bytes: Uint8Array;
  readonly prefixLength: number;
}

export class AddressFormatError extends Error {
  override readonly name = "AddressFormatError";
}

export function ipFamily(text: string): IpFamily {
  return text.includes(":") ? 6 : 4;
}

/** "10.1.0.5" -> 4 bytes, "fd00::5" -> 16 bytes. Zone indexes (fe80::1%eth0) are refused. */
export function ipToBytes(text: string): Uint8Array {
  return ipFamily(text) === 4 ? ipv4ToBytes(text) : ipv6ToBytes(text);
}

/** 4 or 16 bytes -> the usual text form (RFC 5952 for IPv6, as `ip` prints it). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.byteLength === 4) return Array.from(bytes).join(".");
  if (bytes.byteLength === 16) return formatIpv6(bytes);
  throw new AddressFormatError(`an IP address has 4 or 16 bytes, not ${bytes.byteLength}`);
}

/** "10.1.0.0/24" -> family, bytes and prefix length; a bare address gets the full length. */
export function parsePrefix(text: string): Prefix {
  const slash = text.indexOf("/");
  const address = slash === -1 ? text : text.slice(0, slash);
  const bytes = ipToBytes(address);
  const maxLength = bytes.byteLength * 8;
  const lengthText = slash === -1 ? String(maxLength) : text.slice(slash + 1);
  const prefixLength = Number(lengthText);
  if (!/^\d{1,3}$/.test(lengthText) || prefixLength > maxLength) {
    throw new AddressFormatError(`invalid prefix "${text}": the length must be 0-${maxLength}`);
  }
  return { family: bytes.byteLength === 4 ? 4 : 6, bytes, prefixLength };
}

export function formatPrefix(bytes: Uint8Array, prefixLength: number): string {
  return `${bytesToIp(bytes)}/${prefixLength}`;
}

/** "02:42:ac:11:00:02" -> bytes. Link-layer addresses of other lengths (e.g. 20 bytes) are fine. */
export function macToBytes(text: string): Uint8Array {
  const parts = text.split(":");
  if (parts.length < 1 || parts.length > 32 || !parts.every((part) => /^[0-9a-fA-F]{1,2}$/.test(part))) {
    throw new AddressFormatError(`invalid MAC address "${text}": expected hex bytes separated by colons`);
  }
  return Uint8Array.from(parts, (part) => parseInt(part, 16));
}

export function bytesToMac(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join(":");
}

function ipv4ToBytes(text: string): Uint8Array {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((part) => /^(0|[1-9]\d{0,2})$/.test(part) && Number(part) <= 255)) {
    throw new AddressFormatError(`invalid IPv4 address "${text}"`);
  }
  return Uint8Array.from(parts, Number);
}

function ipv6ToBytes(text: string): Uint8Array {
  const invalid = () => new AddressFormatError(`invalid IPv6 address "${text}"`);
  const halves = text.split("::");
  if (halves.length > 2) throw invalid();
  const groups = (half: string | undefined, last: boolean): number[] => {
    if (!half) return [];
    const words: number[] = [];
    const parts = half.split(":");
    parts.forEach((part, i) => {
      if (last && i === parts.length - 1 && part.includes(".")) {
        // Trailing dotted quad: ::ffff:192.0.2.1
        const v4 = ipv4ToBytes(part);
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(part)) {
        words.push(parseInt(part, 16));
      } else {
        throw invalid();
      }
    });
    return words;
  };
  let head: number[];
  let tail: number[];
  try {
    head = groups(halves[0], halves.length === 1);
    tail = groups(halves[1], true);
  } catch {
    throw invalid();
  }
  const compressed = halves.length === 2;
  const missing = 8 - head.length - tail.length;
  if (compressed ? missing < 1 : missing !== 0) throw invalid();
  const words = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  words.forEach((word, i) => {
    bytes[2 * i] = word >> 8;
    bytes[2 * i + 1] = word & 0xff;
  });
  return bytes;
}

function formatIpv6(bytes: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
  // IPv4-mapped addresses keep their dotted quad (::ffff:192.0.2.1), as inet_ntop prints them.
  if (words.slice(0, 5).every((word) => word === 0) && words[5] === 0xffff) {
    return `::ffff:${Array.from(bytes.subarray(12)).join(".")}`;
  }
  // The longest run of two or more zero words becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = words.map((word) => word.toString(16));
  if (bestStart === -1) return hex.join(":");
  return `${hex.slice(0, bestStart).join(":")}::${hex.slice(bestStart + bestLength).join(":")}`;
}
