/** The rtnetlink client: one synchronous socket per network namespace. */
export { Rtnetlink } from "./rtnetlink.ts";
export { NetlinkError, isExists, isNotFound, isNotSupported } from "./errors.ts";
export { AddressFormatError, type IpFamily } from "./addr-bytes.ts";
export type { NetlinkMessage, Request } from "./message.ts";
export type { Describe } from "./socket.ts";
export type { BridgePortInfo, Link, LinkChange, LinkSettings, OperState } from "./link.ts";
export type {
  NewBridge,
  NewIpvlan,
  NewLink,
  NewMacvlan,
  NewPlainLink,
  NewVeth,
  NewVlan,
  NewVrf,
} from "./link-create.ts";
export type { IpvlanFlags, IpvlanMode, MacvlanMode } from "./link-modes.ts";
export type { BridgePortChange, BridgeVlan, BridgeVlanChange } from "./bridge.ts";
export type { Address, AddressSelector, NewAddress } from "./address.ts";
export type { NewRoute, RouteAddMode, RouteEntry, RouteSelector } from "./route.ts";
export type { Neighbour, NeighbourSelector, NewNeighbour } from "./neighbour.ts";
export type { NewRule, Rule, RuleSelector } from "./rule.ts";
/** Numbers that appear in the public types: scopes, tables, protocols, route types, neighbour states, address flags. */
export {
  IFA_F_DADFAILED,
  IFA_F_NODAD,
  IFA_F_PERMANENT,
  IFA_F_TENTATIVE,
  NUD_FAILED,
  NUD_INCOMPLETE,
  NUD_NOARP,
  NUD_PERMANENT,
  NUD_REACHABLE,
  NUD_STALE,
  RT_SCOPE_HOST,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_SITE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_LOCAL,
  RT_TABLE_MAIN,
  RT_TABLE_UNSPEC,
  RTN_BLACKHOLE,
  RTN_LOCAL,
  RTN_PROHIBIT,
  RTN_UNICAST,
  RTN_UNREACHABLE,
  RTPROT_BOOT,
  RTPROT_KERNEL,
  RTPROT_STATIC,
} from "./constants.ts";

/**
 * The codec itself, for protocols built on netlink elsewhere: lib/tc's qdiscs and filters,
 * lib/firewall's nfnetlink (nf_tables, conntrack).
 */
export { AttributeSet, attr } from "./attributes.ts";
export { HOST_LITTLE_ENDIAN, concatBytes, dataView } from "./bytes.ts";
export {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  NLA_F_NESTED,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  RTM_DELQDISC,
  RTM_GETQDISC,
  RTM_GETTFILTER,
  RTM_NEWQDISC,
  RTM_NEWTFILTER,
  TCA_KIND,
  TCA_OPTIONS,
  TC_H_INGRESS,
  TC_H_ROOT,
} from "./constants.ts";
export { tcmsg } from "./headers.ts";
export { decodeBody, request } from "./message.ts";
export { NetlinkSocket } from "./socket.ts";
export { struct } from "./struct.ts";
