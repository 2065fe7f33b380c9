import { Cidr, type IPAddress } from "../ip/index.ts";
import { CniError, ErrorCode } from "../core/index.ts";
import type { IPConfig } from "../types/index.ts";
import type { AddressRange, RangeSet } from "./range.ts";

/** Who holds an address: the attachment's container ID and interface name. */
export interface Attachment {
  containerId: string;
  ifname: string;
}

/** What the allocator needs from a store (the disk store, or a fake in tests). */
export interface AddressStore {
  /** Reserves `ip` for the attachment; false when it is already reserved. */
  reserve(ip: IPAddress, attachment: Attachment, rangeSetIndex: number): boolean;
  lastReservedIP(rangeSetIndex: number): IPAddress | undefined;
  /** The addresses reserved by this attachment (or, in the oldest format, by its container). */
  leasesOf(attachment: Attachment): IPAddress[];
  /** Who holds an address, as the lease file says, for error messages. */
  holderOf(ip: IPAddress): string | undefined;
}

/** An address and the range it belongs to (which gives its prefix length and gateway). */
export interface Allocation {
  ip: IPAddress;
  range: AddressRange;
}

/**
 * The addresses of a range set in the order the reference tries them: round-robin, starting after
 * the last reserved address when the set contains it (else at the first range's start), through
 * each range to its end, then on to the next range, wrapping around once, skipping each range's
 * gateway. Matching this order exactly is what lets our plugin and the reference share a data
 * directory and continue each other's sequence.
 */
export function* candidates(set: RangeSet, lastReserved: IPAddress | undefined): Generator<Allocation> {
  const ranges = set.ranges;
  let rangeIndex = 0;
  let current: IPAddress | undefined;
  let start: IPAddress | undefined;
  const resumeIn = lastReserved === undefined ? -1 : ranges.findIndex((range) => range.contains(lastReserved));
  if (resumeIn >= 0) {
    rangeIndex = resumeIn;
    current = lastReserved;
  }
  for (;;) {
    let range = ranges[rangeIndex]!;
    if (current === undefined) {
      current = range.rangeStart;
      start = current;
    } else {
      if (current.equals(range.rangeEnd)) {
        rangeIndex = (rangeIndex + 1) % ranges.length;
        range = ranges[rangeIndex]!;
        current = range.rangeStart;
      } else {
        current = current.next();
      }
      if (start === undefined) start = current;
      else if (current.equals(start)) return;
    }
    if (!current.equals(range.gateway)) yield { ip: current, range };
  }
}

/**
 * Reserves one address of a range set for the attachment: the requested one, or the next free one
 * in the reference's order. Codes: 105 when the requested address is taken or the attachment
 * already holds an address of this set, 103 when the set has no free address.
 */
export function allocate(
  store: AddressStore,
  set: RangeSet,
  rangeSetIndex: number,
  attachment: Attachment,
  requested: IPAddress | undefined,
): Allocation {
  if (requested) {
    const range = set.rangeFor(requested)!;
    if (!store.reserve(requested, attachment, rangeSetIndex)) {
      const holder = store.holderOf(requested);
      throw new CniError(
        ErrorCode.AddressInUse,
        `requested IP ${requested} of range set ${rangeSetIndex} (${set}) is already reserved${holder ? ` by ${describeHolder(holder)}` : ""}`,
      );
    }
    return { ip: requested, range };
  }

  const held = store.leasesOf(attachment).find((ip) => set.contains(ip));
  if (held) {
    throw new CniError(
      ErrorCode.AddressInUse,
      `${held} of range set ${rangeSetIndex} is already reserved for container ${attachment.containerId} interface ${attachment.ifname}; an attachment gets one address per range set (DEL it first)`,
    );
  }
  for (const candidate of candidates(set, store.lastReservedIP(rangeSetIndex))) {
    if (store.reserve(candidate.ip, attachment, rangeSetIndex)) return candidate;
  }
  throw new CniError(ErrorCode.AddressesExhausted, `no IP addresses available in range set ${rangeSetIndex} (${set})`);
}

/** The result entry for an allocation: the address with its subnet's prefix, and the gateway. */
export function toIPConfig({ ip, range }: Allocation): IPConfig {
  return { address: Cidr.of(ip, range.subnet.prefixLength).toString(), gateway: range.gateway.toString() };
}

/** A lease's content "<id>\r\n<ifname>" (or just "<id>") as "container X interface Y". */
function describeHolder(holder: string): string {
  const [containerId, ifname] = holder.split("\r\n");
  return ifname === undefined ? `container ${containerId}` : `container ${containerId} interface ${ifname}`;
}
