import { AddressParseError, IPAddress, isV4Mapped, parseAddressText, undefinedIfUnparsable, type IPFamily } from "./address.ts";

/**
 * An address with a prefix length ("10.1.2.3/24"), as Go's net.ParseCIDR reads it. The address
 * keeps its host bits, as CNI results and routes do; `network` gives the masked form.
 *
 * The family is the one the text is written in, since the prefix length counts that family's
 * bits: "::ffff:10.0.0.0/120" is an IPv6 network (whose address prints as 10.0.0.0, as in Go).
 */
export class Cidr {
  private constructor(
    readonly family: IPFamily,
    /** The address as written, host bits included. */
    readonly addressValue: bigint,
    readonly prefixLength: number,
  ) {}

  static parse(text: string): Cidr {
    const slash = text.indexOf("/");
    if (slash < 0) throw new AddressParseError(text, "is not in CIDR notation (address/prefix-length)");
    const { family, value } = parseAddressText(text.slice(0, slash));
    const prefixText = text.slice(slash + 1);
    const bits = family === 4 ? 32 : 128;
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      throw new AddressParseError(text, `has an invalid prefix length (IPv${family} takes 0-${bits})`);
    }
    return new Cidr(family, value, Number(prefixText));
  }

  static tryParse(text: string): Cidr | undefined {
    return undefinedIfUnparsable(() => Cidr.parse(text));
  }

  /** The network of `address` with the given prefix length (host bits cleared). */
  static of(address: IPAddress, prefixLength: number): Cidr {
    if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > address.bits) {
      throw new RangeError(`prefix length ${prefixLength} is out of range for IPv${address.family}`);
    }
    return new Cidr(address.family, address.value, prefixLength);
  }

  get bits(): number {
    return this.family === 4 ? 32 : 128;
  }

  /** The address as written, host bits included. */
  get address(): IPAddress {
    return IPAddress.fromBigInt(this.addressValue, this.family);
  }

  private get hostMask(): bigint {
    return (1n << BigInt(this.bits - this.prefixLength)) - 1n;
  }

  /** The first address: host bits cleared. */
  get network(): IPAddress {
    return IPAddress.fromBigInt(this.addressValue & ~this.hostMask, this.family);
  }

  /** The last address: host bits set (for IPv4, the broadcast address). */
  get lastAddress(): IPAddress {
    return IPAddress.fromBigInt(this.addressValue | this.hostMask, this.family);
  }

  /** The netmask as an address ("255.255.255.0"). */
  get mask(): IPAddress {
    const all = (1n << BigInt(this.bits)) - 1n;
    return IPAddress.fromBigInt(all & ~this.hostMask, this.family);
  }

  /** How many addresses the network holds. */
  get size(): bigint {
    return this.hostMask + 1n;
  }

  get hasHostBits(): boolean {
    return (this.addressValue & this.hostMask) !== 0n;
  }

  /** True when the text was an IPv4-mapped IPv6 network ("::ffff:10.0.0.0/120"). */
  get isV4Mapped(): boolean {
    return this.family === 6 && isV4Mapped(this.addressValue);
  }

  /** The same prefix with host bits cleared. */
  withoutHostBits(): Cidr {
    return new Cidr(this.family, this.addressValue & ~this.hostMask, this.prefixLength);
  }

  contains(ip: IPAddress): boolean {
    const value = this.valueInFamily(ip);
    return value !== undefined && (value & ~this.hostMask) === (this.addressValue & ~this.hostMask);
  }

  /** True when the two networks share at least one address. */
  overlaps(other: Cidr): boolean {
    if (other.family !== this.family) return false;
    return this.contains(other.network) || other.contains(this.network);
  }

  equals(other: Cidr): boolean {
    return this.family === other.family && this.addressValue === other.addressValue && this.prefixLength === other.prefixLength;
  }

  /** Go's IPNet.String() for this prefix: "10.1.2.3/24", host bits kept. */
  toString(): string {
    return `${this.address}/${this.prefixLength}`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** An IPv4 address compared with an IPv4-mapped IPv6 network is seen in its mapped form. */
  private valueInFamily(ip: IPAddress): bigint | undefined {
    if (ip.family === this.family) return ip.value;
    if (ip.family === 4 && this.isV4Mapped) return (0xffffn << 32n) | ip.value;
    return undefined;
  }
}
