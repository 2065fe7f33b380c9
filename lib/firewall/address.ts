import { AddressParseError, Cidr, type IPFamily } from "../ip/index.ts";
import { invalidConfig } from "../core/index.ts";

/**
 * A container address as the firewall rules need it. Every part is printed as Go's net package
 * prints it, as the reference's rules are; for the addresses CNI results carry that is also
 * the text iptables-save and `nft -j list` print, so rules read back compare equal.
 */
export interface InterfaceAddress {
  family: IPFamily;
  /** "10.1.2.3", "fd00::3" */
  ip: string;
  /** The address as a host route: "10.1.2.3/32", "fd00::3/128". */
  host: string;
  /** The subnet it belongs to: "10.1.2.0/24", "fd00::/64". */
  subnet: string;
}

/** Parses "10.1.2.3/24" or "fd00::3/64"; code 7 naming the field for anything else. */
export function parseInterfaceAddress(text: string, field = "address"): InterfaceAddress {
  let cidr: Cidr;
  try {
    cidr = Cidr.parse(text);
  } catch (error) {
    if (error instanceof AddressParseError) throw invalidConfig(field, text, `not an address in CIDR notation: ${error.reason}`);
    throw error;
  }
  // The reference would take such an address for IPv4 and its subnet for IPv6; CNI results
  // never carry one, so refuse it rather than guess.
  if (cidr.isV4Mapped) throw invalidConfig(field, text, "IPv4-mapped IPv6 addresses are not supported");
  const ip = cidr.address.toString();
  return { family: cidr.family, ip, host: `${ip}/${cidr.bits}`, subnet: `${cidr.network}/${cidr.prefixLength}` };
}

/** Parses a list of addresses; errors name the offending entry ("addresses[1]"). */
export function parseInterfaceAddresses(cidrs: readonly string[]): InterfaceAddress[] {
  return cidrs.map((cidr, index) => parseInterfaceAddress(cidr, `addresses[${index}]`));
}

/** Parses a list of addresses and groups them by IP family, in their order within each family. */
export function groupByFamily(cidrs: readonly string[]): Map<IPFamily, InterfaceAddress[]> {
  const families = new Map<IPFamily, InterfaceAddress[]>();
  for (const address of parseInterfaceAddresses(cidrs)) {
    families.set(address.family, [...(families.get(address.family) ?? []), address]);
  }
  return families;
}

/** Multicast destinations, which masquerading leaves alone so local multicast keeps working. */
export const MULTICAST: Record<IPFamily, string> = { 4: "224.0.0.0/4", 6: "ff00::/8" };
