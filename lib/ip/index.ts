/**
 * Address arithmetic for the plugins: parsing and printing as Go's net package does (so our
 * output and on-disk names match the reference plugins'), networks, neighbours, containment.
 */
import { IPAddress } from "./address.ts";
import { Cidr } from "./cidr.ts";

export { AddressParseError, IPAddress, type IPFamily } from "./address.ts";
export { Cidr } from "./cidr.ts";

export function isIP(text: string): boolean {
  return IPAddress.tryParse(text) !== undefined;
}

export function isCidr(text: string): boolean {
  return Cidr.tryParse(text) !== undefined;
}

/** The canonical text of an address (Go's net.IP.String()); throws AddressParseError. */
export function canonicalIP(text: string): string {
  return IPAddress.parse(text).toString();
}
