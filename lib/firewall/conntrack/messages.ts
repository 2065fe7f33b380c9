import type { IPFamily } from "../../ip/index.ts";
import {
  AF_INET,
  AF_INET6,
  attr,
  AttributeSet,
  type NetlinkMessage,
  NLA_F_NESTED,
  NLM_F_ACK,
  NLM_F_DUMP,
  request,
  type Request,
} from "../../netlink/index.ts";
import { nfgenmsg, NFNETLINK_V0 } from "../nfnetlink.ts";

/**
 * ctnetlink, the conntrack table over netlink (NETLINK_NETFILTER, subsystem CTNETLINK): the two
 * requests the reference's DeleteConntrackEntriesForDstPort makes, a dump of one family's
 * entries and a delete of one entry, and what a dumped entry says. Numbers are from
 * linux/netfilter/nfnetlink.h and nfnetlink_conntrack.h.
 */
const NFNL_SUBSYS_CTNETLINK = 1;
const IPCTNL_MSG_CT_GET = 1;
const IPCTNL_MSG_CT_DELETE = 2;

const CTA_TUPLE_ORIG = 1;
const CTA_ID = 12;
const CTA_ZONE = 18;
const CTA_TUPLE_PROTO = 2;
const CTA_PROTO_NUM = 1;
const CTA_PROTO_DST_PORT = 3;

export const IPPROTO_UDP = 17;

const ADDRESS_FAMILY: Record<IPFamily, number> = { 4: AF_INET, 6: AF_INET6 };

function ctnetlinkType(message: number): number {
  return (NFNL_SUBSYS_CTNETLINK << 8) | message;
}

/** Asks for every conntrack entry of one family (the kernel filters by nfgen_family). */
export function dumpEntriesRequest(family: IPFamily): Request {
  return request(ctnetlinkType(IPCTNL_MSG_CT_GET), NLM_F_DUMP, nfgenmsg.encode({ family: ADDRESS_FAMILY[family], version: NFNETLINK_V0 }));
}

/** What the deletion of stale entries needs to know of one dumped entry. */
export interface ConntrackEntry {
  /** IPPROTO_* of the original direction. */
  protocol: number | undefined;
  /** Destination port of the original direction (what the client sent to: the host port). */
  destinationPort: number | undefined;
  /** Deletes exactly this entry: its original tuple, zone and ID (a reused tuple has another ID). */
  deleteRequest: Request;
}

export function parseEntry(message: NetlinkMessage): ConntrackEntry {
  const header = nfgenmsg.decode(message.payload);
  const attributes = AttributeSet.parse(message.payload.subarray(nfgenmsg.size));
  const original = attributes.bytes(CTA_TUPLE_ORIG);
  const proto = original === undefined ? undefined : AttributeSet.parse(original).nested(CTA_TUPLE_PROTO);
  const deleteRequest = request(ctnetlinkType(IPCTNL_MSG_CT_DELETE), NLM_F_ACK, nfgenmsg.encode({ family: header.family, version: NFNETLINK_V0 }), [
    attr.bytes(CTA_TUPLE_ORIG | NLA_F_NESTED, original),
    attr.bytes(CTA_ZONE, attributes.bytes(CTA_ZONE)),
    attr.bytes(CTA_ID, attributes.bytes(CTA_ID)),
  ]);
  return { protocol: proto?.u8(CTA_PROTO_NUM), destinationPort: proto?.u16be(CTA_PROTO_DST_PORT), deleteRequest };
}
