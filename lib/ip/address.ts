import { ipAddressModule } from "./ip-address-module.ts";

export type IPFamily = 4 | 6;

const FAMILY_BITS = { 4: 32, 6: 128 } as const;
/** IPv4 text as ip-address and Go read it: four decimal octets 0-255, none with a leading zero. */
const IPV4_TEXT = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const V4_MAPPED_PREFIX = 0xffffn << 32n;
const V4_MAPPED_MASK = ~0xffff_ffffn & ((1n << 128n) - 1n);

/**
 * Text that cannot be read as an address; `reason` says why, for error messages. Addresses come
 * from configurations and results, so one that reaches a plugin's top unnamed is still a
 * configuration error (code 7), never a bug; callers that know the field name it (code 7 too).
 */
export class AddressParseError extends Error {
  readonly cniCode = 7;

  constructor(
    readonly text: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(text)} ${reason}`);
    this.name = "AddressParseError";
  }
}

/**
 * One IPv4 or IPv6 address, immutable, held as a number so arithmetic is exact.
 *
 * It reads and writes text the way Go's net package does, because the reference plugins (and
 * their on-disk state) speak that dialect: IPv4 dotted quads without leading zeros, IPv6 without
 * zones or brackets, and an IPv4-mapped IPv6 address ("::ffff:10.0.0.1") is the IPv4 address it
 * maps (Go's `To4()`), so it compares equal to and prints as "10.0.0.1".
 */
export class IPAddress {
  private constructor(
    readonly family: IPFamily,
    readonly value: bigint,
  ) {}

  static parse(text: string): IPAddress {
    const { family, value } = parseAddressText(text);
    if (family === 6 && isV4Mapped(value)) return new IPAddress(4, value & 0xffff_ffffn);
    return new IPAddress(family, value);
  }

  static tryParse(text: string): IPAddress | undefined {
    return undefinedIfUnparsable(() => IPAddress.parse(text));
  }

  static fromBigInt(value: bigint, family: IPFamily): IPAddress {
    if (value < 0n || value >= 1n << BigInt(FAMILY_BITS[family])) {
      throw new RangeError(`${value} is not an IPv${family} address value`);
    }
    return new IPAddress(family, value);
  }

  /** From 4 or 16 network-order bytes (a 16-byte IPv4-mapped address becomes IPv4). */
  static fromBytes(bytes: Uint8Array): IPAddress {
    if (bytes.length !== 4 && bytes.length !== 16) throw new RangeError(`an address has 4 or 16 bytes, not ${bytes.length}`);
    let value = 0n;
    for (const byte of bytes) value = (value << 8n) | BigInt(byte);
    if (bytes.length === 16 && isV4Mapped(value)) return new IPAddress(4, value & 0xffff_ffffn);
    return new IPAddress(bytes.length === 4 ? 4 : 6, value);
  }

  /** 32 or 128. */
  get bits(): number {
    return FAMILY_BITS[this.family];
  }

  /** Network-order bytes: 4 for IPv4, 16 for IPv6. */
  toBytes(): Uint8Array {
    const bytes = new Uint8Array(this.bits / 8);
    let value = this.value;
    for (let index = bytes.length - 1; index >= 0; index--) {
      bytes[index] = Number(value & 0xffn);
      value >>= 8n;
    }
    return bytes;
  }

  /** This address plus `delta` (which may be negative); RangeError when that leaves the family. */
  add(delta: bigint): IPAddress {
    return IPAddress.fromBigInt(this.value + delta, this.family);
  }

  next(): IPAddress {
    return this.add(1n);
  }

  previous(): IPAddress {
    return this.add(-1n);
  }

  equals(other: IPAddress): boolean {
    return this.family === other.family && this.value === other.value;
  }

  /** A total order: every IPv4 address sorts before every IPv6 address. */
  compare(other: IPAddress): number {
    if (this.family !== other.family) return this.family - other.family;
    return this.value < other.value ? -1 : this.value > other.value ? 1 : 0;
  }

  /** Go's net.IP.String(): "10.0.0.1", "fd00::1", "1:0:0:1::1". */
  toString(): string {
    if (this.family === 4) return formatV4(this.value);
    if (isV4Mapped(this.value)) return formatV4(this.value & 0xffff_ffffn);
    return formatV6(this.value);
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Runs a parser; undefined instead of an AddressParseError. */
export function undefinedIfUnparsable<T>(parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof AddressParseError) return undefined;
    throw error;
  }
}

/** True for ::ffff:a.b.c.d, which Go treats as IPv4. */
export function isV4Mapped(value: bigint): boolean {
  return (value & V4_MAPPED_MASK) === V4_MAPPED_PREFIX;
}

/**
 * Reads address text strictly (no zone, prefix, brackets or surrounding space), keeping the
 * family the text is written in: an IPv4-mapped IPv6 text is family 6 here.
 */
export function parseAddressText(text: string): { family: IPFamily; value: bigint } {
  if (/^[0-9.]+$/.test(text)) {
    // Read here rather than with ip-address, whose loading would cost more than the parsing.
    const octets = IPV4_TEXT.exec(text);
    if (!octets) throw new AddressParseError(text, "is not a valid IPv4 address");
    return { family: 4, value: octets.slice(1).reduce((value, octet) => (value << 8n) | BigInt(octet), 0n) };
  }
  // ip-address also takes zones ("%eth0") and prefixes ("/64"); Go's net.ParseIP takes neither.
  const { Address6 } = ipAddressModule();
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(":") || !Address6.isValid(text)) {
    throw new AddressParseError(text, "is not a valid IP address");
  }
  return { family: 6, value: new Address6(text).bigInt() };
}

function formatV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => Number((value >> shift) & 0xffn)).join(".");
}

/** RFC 5952 as Go writes it: the first longest run of two or more zero groups becomes "::". */
function formatV6(value: bigint): string {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length++;
    if (length > bestLength) {
      bestStart = start;
      bestLength = length;
    }
  }
  const hex = (list: number[]) => list.map((group) => group.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}
