import { Cidr } from "../../lib/ip/index.ts";
import { invalidConfig } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";

/** A container address sbr routes by: the address with its subnet, and prevResult's gateway. */
export interface SourceAddress {
  cidr: Cidr;
  gateway?: string;
}

/**
 * The addresses of prevResult that belong to `ifname`, as the reference picks them: an IP
 * without an `interface` index counts, one whose index names another interface does not.
 */
export function addressesOf(prevResult: Result, ifname: string): SourceAddress[] {
  const ips = prevResult.ips ?? [];
  if (ips.length === 0) {
    throw invalidConfig("prevResult.ips", ips, "sbr routes by source address and the plugin before it gave none");
  }
  return ips
    .filter((ip) => {
      if (ip.interface === undefined) return true;
      const entry = prevResult.interfaces?.[ip.interface];
      return entry === undefined || entry.name === ifname;
    })
    .map((ip) => ({ cidr: Cidr.parse(ip.address), ...(ip.gateway !== undefined && { gateway: ip.gateway }) }));
}

/** The rule's source: the address alone, "10.1.0.5/32" or "fd00::5/128". */
export function sourcePrefix(cidr: Cidr): string {
  return `${cidr.address}/${cidr.bits}`;
}
