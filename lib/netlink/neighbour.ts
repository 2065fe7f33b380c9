import { type IpFamily, bytesToIp, bytesToMac, ipFamily, ipToBytes, macToBytes } from "./addr-bytes.ts";
import { attr, withOptional } from "./attributes.ts";
import {
  NDA_DST,
  NDA_LLADDR,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_REPLACE,
  NUD_PERMANENT,
  RTM_DELNEIGH,
  RTM_GETNEIGH,
  RTM_NEWNEIGH,
} from "./constants.ts";
import { addressFamily, ipFamilyOf } from "./family.ts";
import { ndmsg } from "./headers.ts";
import { type NetlinkMessage, type Request, decodeBody, request } from "./message.ts";

/** An ARP (IPv4) or NDP (IPv6) cache entry. */
export interface Neighbour {
  index: number;
  family: IpFamily;
  address: string;
  mac?: string;
  /** NUD_* state (0x80 permanent, 0x02 reachable, 0x04 stale, ...). */
  state: number;
  /** NTF_* flags. */
  flags: number;
}

export interface NewNeighbour {
  index: number;
  address: string;
  mac: string;
  /** Default: NUD_PERMANENT. */
  state?: number;
}

export type NeighbourSelector = Pick<NewNeighbour, "index" | "address">;

/** Adds or replaces the entry (`ip neigh replace`). */
export function addNeighbourRequest(neighbour: NewNeighbour): Request {
  return request(
    RTM_NEWNEIGH,
    NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK,
    ndmsg.encode({
      family: addressFamily(ipFamily(neighbour.address)),
      index: neighbour.index,
      state: neighbour.state ?? NUD_PERMANENT,
    }),
    [attr.bytes(NDA_DST, ipToBytes(neighbour.address)), attr.bytes(NDA_LLADDR, macToBytes(neighbour.mac))],
  );
}

export function deleteNeighbourRequest(neighbour: NeighbourSelector): Request {
  return request(
    RTM_DELNEIGH,
    NLM_F_ACK,
    ndmsg.encode({ family: addressFamily(ipFamily(neighbour.address)), index: neighbour.index }),
    [attr.bytes(NDA_DST, ipToBytes(neighbour.address))],
  );
}

export function dumpNeighboursRequest(family?: IpFamily): Request {
  return request(RTM_GETNEIGH, NLM_F_DUMP, ndmsg.encode({ family: addressFamily(family) }));
}

/** Decodes an RTM_NEWNEIGH message; undefined for other families (bridge FDB entries). */
export function decodeNeighbour(message: NetlinkMessage): Neighbour | undefined {
  const { header, attributes } = decodeBody(message, ndmsg);
  const family = ipFamilyOf(header.family);
  if (family === undefined) return undefined;
  const dst = attributes.bytes(NDA_DST);
  if (dst === undefined) return undefined;
  const mac = attributes.bytes(NDA_LLADDR);
  const neighbour: Neighbour = {
    index: header.index,
    family,
    address: bytesToIp(dst),
    state: header.state,
    flags: header.flags,
  };
  return withOptional(neighbour, { mac: mac && bytesToMac(mac) });
}
