import { AddressParseError, Cidr, IPAddress } from "../ip/index.ts";
import { CniError, ErrorCode, invalidConfig } from "../core/index.ts";
import { type Route, versionAtLeast } from "../types/index.ts";
import { AddressRange, RangeSet } from "./range.ts";

/**
 * host-local configuration as the reference reads it, turned into validated range sets.
 * Inputs are the already type-checked JSON (strings, arrays); every address is parsed and every
 * rule checked here, and each failure is code 7 naming the field as the user wrote it.
 */

export const DEFAULT_DATA_DIR = "/var/lib/cni/networks";

/** One range as written; null and "" mean "not set" for the optional keys, as in the reference. */
export interface RangeInput {
  subnet: string;
  rangeStart?: string | null;
  rangeEnd?: string | null;
  gateway?: string | null;
}

export interface RouteInput {
  dst: string;
  gw?: string | null;
  mtu?: number;
  advmss?: number;
  priority?: number;
  table?: number;
  scope?: number;
}

export interface IpamInput {
  /** The legacy single range at the ipam level. */
  subnet?: string | null;
  rangeStart?: string | null;
  rangeEnd?: string | null;
  gateway?: string | null;
  ranges?: RangeInput[][] | null;
  routes?: RouteInput[] | null;
  dataDir?: string | null;
  resolvConf?: string | null;
}

export interface HostLocalInput {
  /** The network name: the store's directory under dataDir. */
  name: string;
  cniVersion: string;
  ipam: IpamInput;
  /** The ipRanges capability (runtimeConfig.ipRanges). */
  ipRanges?: RangeInput[][] | null;
}

export interface IpamConfig {
  network: string;
  dataDir: string;
  resolvConf: string | undefined;
  routes: Route[];
  /** In allocation order; the index names last_reserved_ip.<index>. */
  rangeSets: RangeSet[];
}

/** A range set with where it was written, for error messages. */
interface SourcedRangeSet {
  field: string;
  ranges: { field: string; input: RangeInput }[];
}

export function normalizeIpamConfig(input: HostLocalInput): IpamConfig {
  const sources = rangeSetSources(input);
  if (sources.length === 0) {
    throw invalidConfig("ipam.ranges", input.ipam.ranges ?? undefined, "no IP ranges specified: set ipam.ranges (or the legacy ipam.subnet)");
  }
  const rangeSets = sources.map((source, index) => normalizeRangeSet(source, index));
  checkAddressesPerFamily(rangeSets, input.cniVersion);
  for (let later = 1; later < rangeSets.length; later++) {
    for (let earlier = 0; earlier < later; earlier++) {
      if (rangeSets[earlier]!.overlaps(rangeSets[later]!)) {
        throw invalidConfig(
          sources[later]!.field,
          sources[later]!.ranges.map((range) => range.input),
          `range set ${later} (${rangeSets[later]}) overlaps range set ${earlier} (${rangeSets[earlier]}, from ${sources[earlier]!.field})`,
        );
      }
    }
  }
  return {
    network: input.name,
    dataDir: unlessEmpty(input.ipam.dataDir) ?? DEFAULT_DATA_DIR,
    resolvConf: unlessEmpty(input.ipam.resolvConf),
    routes: (input.ipam.routes ?? []).map((route, index) => normalizeRoute(route, `ipam.routes[${index}]`)),
    rangeSets,
  };
}

/** The reference's order: runtimeConfig.ipRanges, then the legacy range, then ipam.ranges. */
function rangeSetSources(input: HostLocalInput): SourcedRangeSet[] {
  const fromList = (sets: RangeInput[][] | null | undefined, field: string): SourcedRangeSet[] =>
    (sets ?? []).map((set, setIndex) => ({
      field: `${field}[${setIndex}]`,
      ranges: set.map((range, rangeIndex) => ({ field: `${field}[${setIndex}][${rangeIndex}]`, input: range })),
    }));
  const { ipam } = input;
  const legacy: SourcedRangeSet[] =
    ipam.subnet === undefined || ipam.subnet === null
      ? []
      : [
          {
            field: "ipam",
            ranges: [
              {
                field: "ipam",
                input: { subnet: ipam.subnet, rangeStart: ipam.rangeStart, rangeEnd: ipam.rangeEnd, gateway: ipam.gateway },
              },
            ],
          },
        ];
  return [...fromList(input.ipRanges, "runtimeConfig.ipRanges"), ...legacy, ...fromList(ipam.ranges, "ipam.ranges")];
}

function normalizeRangeSet(source: SourcedRangeSet, setIndex: number): RangeSet {
  if (source.ranges.length === 0) throw invalidConfig(source.field, [], "empty range set: list at least one range");
  const ranges: AddressRange[] = [];
  for (const { field, input } of source.ranges) {
    const range = normalizeRange(input, field);
    const first = ranges[0];
    if (first && first.family !== range.family) {
      throw invalidConfig(
        `${field}.subnet`,
        input.subnet,
        `range set ${setIndex} mixes IPv${first.family} and IPv${range.family}; put each family in its own range set`,
      );
    }
    const overlapped = ranges.findIndex((earlier) => earlier.overlaps(range));
    if (overlapped >= 0) {
      throw invalidConfig(
        field,
        input,
        `range ${range} overlaps ${ranges[overlapped]} (${source.ranges[overlapped]!.field}) in the same range set`,
      );
    }
    ranges.push(range);
  }
  return new RangeSet(ranges);
}

/** The reference's Range.Canonicalize: defaults and checks, in the same order. */
function normalizeRange(input: RangeInput, field: string): AddressRange {
  const subnet = parseSubnet(input.subnet, `${field}.subnet`);
  const gateway = optionalAddress(input.gateway, `${field}.gateway`, subnet) ?? subnet.network.next();
  const rangeStart = optionalAddress(input.rangeStart, `${field}.rangeStart`, subnet) ?? subnet.network.next();
  const rangeEnd = optionalAddress(input.rangeEnd, `${field}.rangeEnd`, subnet) ?? defaultRangeEnd(subnet);
  for (const [key, address] of [
    ["rangeStart", rangeStart],
    ["rangeEnd", rangeEnd],
  ] as const) {
    if (!subnet.contains(address)) {
      throw invalidConfig(`${field}.${key}`, input[key], `not in subnet ${subnet}`);
    }
  }
  if (rangeStart.compare(rangeEnd) > 0) {
    throw invalidConfig(`${field}.rangeStart`, input.rangeStart, `is after rangeEnd ${rangeEnd}`);
  }
  return new AddressRange(subnet, rangeStart, rangeEnd, gateway);
}

function parseSubnet(text: string, field: string): Cidr {
  const subnet = parseOrThrow(() => Cidr.parse(text), field, text);
  if (subnet.isV4Mapped) {
    throw invalidConfig(field, text, `is an IPv4-mapped IPv6 subnet; write it as the IPv4 subnet ${subnet.address}/${subnet.prefixLength - 96}`);
  }
  // Two addresses at least: the network address and one to hand out (a /31 or /32 has none).
  if (subnet.prefixLength > subnet.bits - 2) {
    throw invalidConfig(field, text, `too small to allocate from: use a prefix length of ${subnet.bits - 2} or less`);
  }
  if (subnet.hasHostBits) {
    throw invalidConfig(field, text, `has host bits set: the network address for /${subnet.prefixLength} is ${subnet.network}`);
  }
  return subnet;
}

function optionalAddress(text: string | null | undefined, field: string, subnet: Cidr): IPAddress | undefined {
  const value = unlessEmpty(text);
  if (value === undefined) return undefined;
  const address = parseOrThrow(() => IPAddress.parse(value), field, value);
  if (address.family !== subnet.family) {
    throw invalidConfig(field, value, `is an IPv${address.family} address in the IPv${subnet.family} subnet ${subnet}`);
  }
  return address;
}

/** The last address of the subnet, or for IPv4 the one before the broadcast address. */
function defaultRangeEnd(subnet: Cidr): IPAddress {
  return subnet.family === 4 ? subnet.lastAddress.previous() : subnet.lastAddress;
}

/** CNI 0.1.0 and 0.2.0 results hold one address per family. */
function checkAddressesPerFamily(rangeSets: RangeSet[], cniVersion: string): void {
  if (versionAtLeast(cniVersion, "0.3.0")) return;
  for (const family of [4, 6] as const) {
    const count = rangeSets.filter((set) => set.family === family).length;
    if (count > 1) {
      throw new CniError(
        ErrorCode.IncompatibleVersion,
        `CNI version ${cniVersion} does not support more than one IPv${family} address, and the configuration has ${count} IPv${family} range sets: use cniVersion 0.3.0 or later`,
      );
    }
  }
}

/** A route as written in ipam.routes (`field` names it in errors), checked and in canonical form. */
export function normalizeRoute(route: RouteInput, field: string): Route {
  const dst = parseOrThrow(() => Cidr.parse(route.dst), `${field}.dst`, route.dst);
  if (dst.isV4Mapped) throw invalidConfig(`${field}.dst`, route.dst, "is an IPv4-mapped IPv6 network; write it in IPv4 notation");
  const gwText = unlessEmpty(route.gw);
  const normalized: Route = { dst: dst.toString() };
  if (gwText !== undefined) normalized.gw = parseOrThrow(() => IPAddress.parse(gwText), `${field}.gw`, gwText).toString();
  for (const key of ["mtu", "advmss", "priority", "table", "scope"] as const) {
    if (route[key] !== undefined) normalized[key] = route[key];
  }
  return normalized;
}

function parseOrThrow<T>(parse: () => T, field: string, value: unknown): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof AddressParseError) throw invalidConfig(field, value, error.reason);
    throw error;
  }
}

function unlessEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === "" ? undefined : value;
}
