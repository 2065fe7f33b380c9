import { AddressParseError, Cidr, IPAddress } from "../ip/index.ts";
import { CniError, ErrorCode, invalidConfig } from "../core/index.ts";
import type { RangeSet } from "./range.ts";

/**
 * Addresses the runtime asks for: CNI_ARGS "IP", args.cni.ips and the `ips` capability
 * (runtimeConfig.ips). Each is "<ip>" or "<ip>/<prefix>"; the prefix is ignored, as the
 * reference ignores it (the range's subnet decides the prefix of the result).
 */
export interface RequestedIP {
  address: IPAddress;
  /** Where it came from, as a field name for messages ("runtimeConfig.ips[0]", "CNI_ARGS IP"). */
  field: string;
  text: string;
}

export function parseRequestedIP(text: string): IPAddress {
  const slash = text.indexOf("/");
  if (slash < 0) return IPAddress.parse(text);
  Cidr.parse(text); // validates the prefix length, as the reference's ParseCIDR does
  return IPAddress.parse(text.slice(0, slash));
}

/**
 * CNI_ARGS IP=: one address as in the reference, or (our extension) several separated by commas.
 * A bad value is an environment error (code 4); an empty value requests nothing.
 */
export function requestedFromCniArgs(value: string | undefined): RequestedIP[] {
  if (value === undefined || value === "") return [];
  return value.split(",").map((text) => {
    try {
      return { address: parseRequestedIP(text), field: "CNI_ARGS IP", text };
    } catch (error) {
      if (!(error instanceof AddressParseError)) throw error;
      throw new CniError(ErrorCode.InvalidEnvironment, `CNI_ARGS: IP=${JSON.stringify(value)}: ${JSON.stringify(text)} is not an IP address`);
    }
  });
}

/** A list from the configuration (args.cni.ips, runtimeConfig.ips); a bad entry is code 7. */
export function requestedFromConfig(list: readonly string[] | null | undefined, field: string): RequestedIP[] {
  return (list ?? []).map((text, index) => {
    try {
      return { address: parseRequestedIP(text), field: `${field}[${index}]`, text };
    } catch (error) {
      if (!(error instanceof AddressParseError)) throw error;
      throw invalidConfig(`${field}[${index}]`, text, `not an IP address (expected "<ip>" or "<ip>/<prefix>")`);
    }
  });
}

/**
 * Which range set serves which requested address, the reference's way: the same address asked
 * twice counts once, and each range set takes the first requested address it contains.
 * Problems are not thrown here but placed where the reference raises them during allocation, so
 * a refused request leaves the same last_reserved_ip files behind as the reference's would and
 * both keep allocating one round-robin sequence: a requested gateway fails at its range set's
 * turn, and an address no range set took (outside all of them, or a second one for a range set)
 * fails after every range set was allocated. Both are code 7.
 */
export interface RequestPlan {
  /** Per range set: the address to reserve, an error to raise at its turn, or undefined (any). */
  perRangeSet: (IPAddress | CniError | undefined)[];
  /** Raised once every range set was allocated; undefined when every request was placed. */
  leftover: CniError | undefined;
}

export function planRequestedIPs(rangeSets: readonly RangeSet[], requested: readonly RequestedIP[]): RequestPlan {
  const pending = new Map<string, RequestedIP>();
  for (const request of requested) {
    const key = request.address.toString();
    if (!pending.has(key)) pending.set(key, request);
  }
  const perRangeSet = rangeSets.map((set, index) => {
    for (const [key, request] of pending) {
      if (!set.contains(request.address)) continue;
      pending.delete(key);
      if (request.address.equals(set.rangeFor(request.address)!.gateway)) {
        return invalidConfig(request.field, request.text, `requested IP ${request.address} is the gateway of range set ${index} (${set})`);
      }
      return request.address;
    }
    return undefined;
  });
  const [unplaced] = pending.values();
  if (!unplaced) return { perRangeSet, leftover: undefined };
  const taker = rangeSets.findIndex((set) => set.contains(unplaced.address));
  const leftover = invalidConfig(
    unplaced.field,
    unplaced.text,
    taker >= 0
      ? `range set ${taker} (${rangeSets[taker]}) already takes requested IP ${perRangeSet[taker]}; a range set gives one address`
      : `requested IP ${unplaced.address} is not in any range set (${rangeSets.map((set, index) => `${index}: ${set}`).join("; ")})`,
  );
  return { perRangeSet, leftover };
}
