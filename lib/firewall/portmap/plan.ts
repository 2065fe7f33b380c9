import { IPAddress, type IPFamily } from "../../ip/index.ts";
import { invalidConfig } from "../../core/index.ts";
import { parseInterfaceAddresses, type InterfaceAddress } from "../address.ts";
import type { PortMapping, PortMapRequest, PortMapSettings } from "./types.ts";

/** A mapping as it applies to one IP family of the container. */
export interface FamilyMapping extends PortMapping {
  /** The one host address the mapping forwards from; absent for every address of the family. */
  destination?: string;
}

/**
 * The mappings that apply to a container address of `family`, as the reference selects them: a
 * mapping with a hostIP of the other family is left out, and an unspecified hostIP ("0.0.0.0",
 * "::") keeps the mapping for every address of its own family.
 */
export function mappingsOfFamily(mappings: readonly PortMapping[], family: IPFamily): FamilyMapping[] {
  return mappings.flatMap((mapping) => {
    if (mapping.hostIP === undefined) return [mapping];
    const hostIP = IPAddress.parse(mapping.hostIP);
    if (hostIP.family !== family) return [];
    return [hostIP.value === 0n ? mapping : { ...mapping, destination: hostIP.toString() }];
  });
}

/** The request's container addresses by family; code 7 for a second address of one family. */
export function addressesByFamily(request: PortMapRequest): Map<IPFamily, InterfaceAddress> {
  const byFamily = new Map<IPFamily, InterfaceAddress>();
  parseInterfaceAddresses(request.addresses).forEach((address, index) => {
    if (byFamily.has(address.family)) {
      throw invalidConfig(`addresses[${index}]`, request.addresses[index], `a second IPv${address.family} address: mappings forward to one address per family`);
    }
    byFamily.set(address.family, address);
  });
  return byFamily;
}

export function conditionsOf(settings: PortMapSettings, family: IPFamily): readonly string[] {
  return family === 4 ? settings.conditionsV4 : settings.conditionsV6;
}

/** "10.1.2.3:80", "[fd00::3]:80": an address and port as iptables and nft write a DNAT target. */
export function joinHostPort(ip: string, port: number): string {
  return ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`;
}

