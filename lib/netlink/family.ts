import type { IpFamily } from "./addr-bytes.ts";
import { AF_INET, AF_INET6, AF_UNSPEC, RT_TABLE_UNSPEC } from "./constants.ts";

/** 4 | 6 <-> AF_INET | AF_INET6; no family means AF_UNSPEC (both, in a dump). */
export function addressFamily(family: IpFamily | undefined): number {
  return family === 4 ? AF_INET : family === 6 ? AF_INET6 : AF_UNSPEC;
}

/** The IP family of a kernel address family, or undefined for anything else (bridge, MPLS, ...). */
export function ipFamilyOf(addressFamily: number): IpFamily | undefined {
  return addressFamily === AF_INET ? 4 : addressFamily === AF_INET6 ? 6 : undefined;
}

/**
 * Routing table ids in route and rule headers are 8 bits: a larger id goes in an attribute
 * (RTA_TABLE, FRA_TABLE) and the header says RT_TABLE_UNSPEC, as iproute2 does.
 */
export function splitTableId(table: number): { inHeader: number; inAttribute: number | undefined } {
  return table > 255 ? { inHeader: RT_TABLE_UNSPEC, inAttribute: table } : { inHeader: table, inAttribute: undefined };
}
