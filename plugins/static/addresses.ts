import { AddressParseError, Cidr, IPAddress } from "../../lib/ip/index.ts";
import { normalizeRoute } from "../../lib/ipam/index.ts";
import { CniError, ErrorCode, invalidConfig, type CniArgs } from "../../lib/skel/index.ts";
import { versionAtLeast, type DNS, type IPConfig, type Result, type Route } from "../../lib/types/index.ts";
import type { StaticConfigInput } from "./config.ts";

/** One address to assign, with where it was written (a field name for messages). */
export interface StaticAddress {
  cidr: Cidr;
  gateway?: IPAddress;
  field: string;
}

export const ADDRESS_SOURCES = "ipam.addresses, CNI_ARGS IP, args.cni.ips or the ips capability (runtimeConfig.ips)";

/**
 * The addresses to assign, with the reference's precedence: ipam.addresses plus CNI_ARGS IP
 * (CNI_ARGS GATEWAY sets the gateway of the CNI_ARGS addresses whose subnet contains it), all
 * replaced by args.cni.ips when that is not empty, and all replaced by runtimeConfig.ips when
 * that is not empty.
 */
export function resolveAddresses(config: StaticConfigInput, args: CniArgs): StaticAddress[] {
  args.requireKnown(["IP", "GATEWAY"]);
  const capability = config.runtimeConfig?.ips ?? [];
  if (capability.length > 0) return addressList(capability, "runtimeConfig.ips");
  const fromArgs = config.args?.cni?.ips ?? [];
  if (fromArgs.length > 0) return addressList(fromArgs, "args.cni.ips");

  return [...configuredAddresses(config), ...addressesFromCniArgs(args.get("IP"), args.get("GATEWAY"))];
}

/** ipam.addresses, parsed (code 7 naming the entry when one is not valid). */
export function configuredAddresses(config: StaticConfigInput): StaticAddress[] {
  return (config.ipam.addresses ?? []).map((entry, index) => {
    const field = `ipam.addresses[${index}]`;
    const cidr = parseAddress(entry.address, `${field}.address`);
    if (!entry.gateway) return { cidr, field };
    return { cidr, gateway: parseGateway(entry.gateway, `${field}.gateway`, cidr), field };
  });
}

/** ipam.routes, parsed (code 7 naming the route when one is not valid). */
export function configuredRoutes(config: StaticConfigInput): Route[] {
  return (config.ipam.routes ?? []).map((route, index) => normalizeRoute(route, `ipam.routes[${index}]`));
}

/** A list of CIDRs without gateways (args.cni.ips, runtimeConfig.ips). */
function addressList(list: readonly string[], name: string): StaticAddress[] {
  return list.map((text, index) => {
    const field = `${name}[${index}]`;
    return { cidr: parseAddress(text, field), field };
  });
}

/** CNI_ARGS IP (comma-separated CIDRs) and GATEWAY (comma-separated addresses); bad values are code 4. */
function addressesFromCniArgs(ipText: string | undefined, gatewayText: string | undefined): StaticAddress[] {
  const addresses: StaticAddress[] = splitList(ipText).map((text) => {
    try {
      return { cidr: toCanonicalCidr(Cidr.parse(text)), field: "CNI_ARGS IP" };
    } catch (error) {
      if (!(error instanceof AddressParseError || error instanceof CniError)) throw error;
      throw new CniError(ErrorCode.InvalidEnvironment, `CNI_ARGS: IP=${JSON.stringify(ipText)}: ${JSON.stringify(text)} is not an address in CIDR notation (e.g. 10.10.0.5/24)`);
    }
  });
  for (const text of splitList(gatewayText)) {
    const gateway = IPAddress.tryParse(text);
    if (!gateway) throw new CniError(ErrorCode.InvalidEnvironment, `CNI_ARGS: GATEWAY=${JSON.stringify(gatewayText)}: ${JSON.stringify(text)} is not an IP address`);
    for (const address of addresses) {
      if (address.cidr.family === gateway.family && address.cidr.withoutHostBits().contains(gateway)) address.gateway = gateway;
    }
  }
  return addresses;
}

function splitList(text: string | undefined): string[] {
  if (text === undefined || text === "") return [];
  return text.split(",").map((item) => item.trim());
}

function parseAddress(text: string, field: string): Cidr {
  try {
    return toCanonicalCidr(Cidr.parse(text));
  } catch (error) {
    if (error instanceof AddressParseError) throw invalidConfig(field, text, `${error.reason} (expected an address in CIDR notation, e.g. 10.10.0.5/24)`);
    if (error instanceof CniError) throw invalidConfig(field, text, error.message);
    throw error;
  }
}

/**
 * An IPv4-mapped IPv6 CIDR ("::ffff:10.1.2.3/120") is the IPv4 CIDR it maps (10.1.2.3/24), as
 * the reference prints it; one whose prefix does not reach into the IPv4 part is no address.
 */
function toCanonicalCidr(cidr: Cidr): Cidr {
  if (!cidr.isV4Mapped) return cidr;
  if (cidr.prefixLength < 96) throw new CniError(ErrorCode.InvalidConfig, `an IPv4-mapped address needs a prefix length of 96 or more`);
  return Cidr.of(IPAddress.fromBytes(cidr.address.toBytes()), cidr.prefixLength - 96);
}

function parseGateway(text: string, field: string, address: Cidr): IPAddress {
  const gateway = IPAddress.tryParse(text);
  if (!gateway) throw invalidConfig(field, text, "not an IP address");
  if (gateway.family !== address.family) {
    throw invalidConfig(field, text, `an IPv${gateway.family} gateway for the IPv${address.family} address ${address}`);
  }
  return gateway;
}

/** The ADD result: every address (with its gateway), the routes and dns of the configuration. */
export function staticResult(config: StaticConfigInput, addresses: StaticAddress[]): Result {
  if (addresses.length === 0) {
    throw new CniError(ErrorCode.InvalidConfig, `invalid config: ipam.addresses=(missing): no address to assign; addresses come from ${ADDRESS_SOURCES}`);
  }
  checkAddressesPerFamily(addresses, config.cniVersion);
  const ips: IPConfig[] = addresses.map(({ cidr, gateway }) => (gateway ? { address: cidr.toString(), gateway: gateway.toString() } : { address: cidr.toString() }));
  return { ips, routes: configuredRoutes(config), dns: toDns(config.ipam.dns) };
}

/** CNI 0.1.0 and 0.2.0 results hold one address per family. */
function checkAddressesPerFamily(addresses: StaticAddress[], cniVersion: string): void {
  if (versionAtLeast(cniVersion === "" ? "0.1.0" : cniVersion, "0.3.0")) return;
  for (const family of [4, 6] as const) {
    const count = addresses.filter((address) => address.cidr.family === family).length;
    if (count > 1) {
      throw new CniError(
        ErrorCode.IncompatibleVersion,
        `CNI version ${cniVersion} does not support more than one IPv${family} address, and ${count} are given: use cniVersion 0.3.0 or later`,
      );
    }
  }
}

function toDns(dns: StaticConfigInput["ipam"]["dns"]): DNS | undefined {
  if (!dns) return undefined;
  const result: DNS = {};
  if (dns.nameservers) result.nameservers = dns.nameservers;
  if (dns.domain) result.domain = dns.domain;
  if (dns.search) result.search = dns.search;
  if (dns.options) result.options = dns.options;
  return result;
}

/**
 * CHECK: every address to assign is in prevResult, with the configured gateway when one is
 * configured (code 104 otherwise).
 */
export function checkAgainstResult(addresses: StaticAddress[], prevResult: Result, ifname: string): void {
  const present = (prevResult.ips ?? []).map((ipc) => ({ cidr: Cidr.parse(ipc.address), gateway: ipc.gateway ? IPAddress.parse(ipc.gateway) : undefined }));
  for (const { cidr, gateway, field } of addresses) {
    const match = present.find((entry) => entry.cidr.address.equals(cidr.address));
    if (!match) {
      throw new CniError(ErrorCode.CheckFailed, `address ${cidr} (${field}) is missing from the result of ${ifname} (it has ${present.map((entry) => entry.cidr.toString()).join(", ") || "none"})`);
    }
    if (gateway && !(match.gateway && match.gateway.equals(gateway))) {
      throw new CniError(ErrorCode.CheckFailed, `address ${cidr} of ${ifname} has gateway ${match.gateway ?? "none"} in the result, but ${field} gives ${gateway}`);
    }
  }
}
