import type { Cidr, IPAddress, IPFamily } from "../ip/index.ts";

/**
 * One pool of addresses: rangeStart..rangeEnd (both inclusive) inside a subnet, with the gateway
 * handed out alongside every address from it. Built only by normalizeIpamConfig, which checks
 * that start <= end, both lie in the subnet, and the gateway has the subnet's family.
 */
export class AddressRange {
  constructor(
    /** The subnet without host bits. */
    readonly subnet: Cidr,
    readonly rangeStart: IPAddress,
    readonly rangeEnd: IPAddress,
    readonly gateway: IPAddress,
  ) {}

  get family(): IPFamily {
    return this.subnet.family;
  }

  contains(ip: IPAddress): boolean {
    return (
      ip.family === this.family &&
      this.subnet.contains(ip) &&
      ip.compare(this.rangeStart) >= 0 &&
      ip.compare(this.rangeEnd) <= 0
    );
  }

  overlaps(other: AddressRange): boolean {
    return other.family === this.family && this.rangeStart.compare(other.rangeEnd) <= 0 && other.rangeStart.compare(this.rangeEnd) <= 0;
  }

  /** How many addresses the allocator can hand out: the range minus the gateway when inside. */
  get capacity(): bigint {
    const size = this.rangeEnd.value - this.rangeStart.value + 1n;
    return this.contains(this.gateway) ? size - 1n : size;
  }

  /** "10.1.0.2-10.1.0.254", the reference's notation. */
  toString(): string {
    return `${this.rangeStart}-${this.rangeEnd}`;
  }
}

/** The ranges one address is allocated from (one entry of `ranges`); all of one family. */
export class RangeSet {
  constructor(readonly ranges: readonly AddressRange[]) {
    if (ranges.length === 0) throw new RangeError("a range set needs at least one range");
  }

  get family(): IPFamily {
    return this.ranges[0]!.family;
  }

  rangeFor(ip: IPAddress): AddressRange | undefined {
    return this.ranges.find((range) => range.contains(ip));
  }

  contains(ip: IPAddress): boolean {
    return this.rangeFor(ip) !== undefined;
  }

  overlaps(other: RangeSet): boolean {
    return this.ranges.some((range) => other.ranges.some((otherRange) => range.overlaps(otherRange)));
  }

  get capacity(): bigint {
    return this.ranges.reduce((total, range) => total + range.capacity, 0n);
  }

  /** "10.1.0.2-10.1.0.254,10.2.0.2-10.2.0.254", the reference's notation. */
  toString(): string {
    return this.ranges.join(",");
  }
}
