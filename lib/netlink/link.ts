import { bytesToMac, macToBytes } from "./addr-bytes.ts";
import { type Attribute, type AttributeList, type AttributeSet, attr, withOptional } from "./attributes.ts";
import {
  AF_BRIDGE,
  AF_UNSPEC,
  IFF_ALLMULTI,
  IFF_PROMISC,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_BR_VLAN_FILTERING,
  IFLA_BRPORT_ISOLATED,
  IFLA_BRPORT_LEARNING,
  IFLA_BRPORT_MODE,
  IFLA_EXT_MASK,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_INFO_SLAVE_DATA,
  IFLA_INFO_SLAVE_KIND,
  IFLA_IPVLAN_FLAGS,
  IFLA_IPVLAN_MODE,
  IFLA_LINK,
  IFLA_LINK_NETNSID,
  IFLA_LINKINFO,
  IFLA_MACVLAN_BC_QUEUE_LEN,
  IFLA_MACVLAN_MODE,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFLA_OPERSTATE,
  IFLA_PROTINFO,
  IFLA_TXQLEN,
  IFLA_VLAN_ID,
  IFLA_VRF_TABLE,
  NLM_F_ACK,
  NLM_F_DUMP,
  RTEXT_FILTER_SKIP_STATS,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_NEWLINK,
} from "./constants.ts";
import { ifinfomsg } from "./headers.ts";
import { type NetlinkMessage, type Request, decodeBody, request } from "./message.ts";
import {
  type IpvlanFlags,
  type IpvlanMode,
  type MacvlanMode,
  ipvlanFlagsName,
  ipvlanModeName,
  macvlanModeName,
} from "./link-modes.ts";

export type OperState = "unknown" | "notpresent" | "down" | "lowerlayerdown" | "testing" | "dormant" | "up";
/** By IF_OPER_* number. */
const OPER_STATES: readonly OperState[] = [
  "unknown",
  "notpresent",
  "down",
  "lowerlayerdown",
  "testing",
  "dormant",
  "up",
];

/** Bridge port settings, read from IFLA_INFO_SLAVE_DATA (or IFLA_PROTINFO in AF_BRIDGE dumps). */
export interface BridgePortInfo {
  hairpin: boolean;
  isolated: boolean;
  learning: boolean;
}

/** A network interface as the kernel reports it. */
export interface Link {
  index: number;
  name: string;
  /** IFLA_INFO_KIND ("veth", "bridge", "macvlan", ...); undefined for plain devices (lo, most NICs). */
  kind?: string;
  /** IFF_* flags. */
  flags: number;
  up: boolean;
  operState: OperState;
  mtu: number;
  mac?: string;
  /** Index of the master device (the bridge this link is a port of). */
  master?: number;
  txQueueLen: number;
  promisc: boolean;
  allmulti: boolean;
  /**
   * IFLA_LINK: the lower device of a macvlan/ipvlan/vlan, or a veth's peer. When linkNetnsId is
   * set, this index is in that other namespace.
   */
  parentIndex?: number;
  /** The namespace id (as this namespace knows it) where parentIndex lives, for cross-namespace links. */
  linkNetnsId?: number;
  bridge?: { vlanFiltering: boolean };
  /** bcQueueLen: the kernel's queue length for broadcasts (absent before Linux 5.11). */
  macvlan?: { mode: MacvlanMode; bcQueueLen?: number };
  ipvlan?: { mode: IpvlanMode; flags: IpvlanFlags };
  vlan?: { id: number };
  vrf?: { table: number };
  bridgePort?: BridgePortInfo;
  /** IFLA_IFALIAS, the free-text alias (`ip link set X alias Y`); undefined when none is set. */
  alias?: string;
}

/** Changes to an existing link; only the given fields are sent. */
export interface LinkChange {
  up?: boolean;
  mtu?: number;
  mac?: string;
  /** A new name; kernels before 6.2 refuse to rename a link that is up (EBUSY). */
  name?: string;
  /** Index of the bridge (or other master) to enslave to; 0 removes the link from its master. */
  master?: number;
  /** Moves the link to the namespace this fd refers to. */
  netnsFd?: number;
  promisc?: boolean;
  allmulti?: boolean;
  txQueueLen?: number;
  /** A new alias (IFLA_IFALIAS); "" removes it. */
  alias?: string;
}

/** Settings every new link (and a veth's peer) can be created with. */
export interface LinkSettings {
  name: string;
  mtu?: number;
  mac?: string;
  txQueueLen?: number;
  /** Create the link directly in the namespace this fd refers to (IFLA_NET_NS_FD). */
  netnsFd?: number;
}

/**
 * The attributes shared by creating and changing links, in the order iproute2 sends them.
 * `related` is IFLA_LINK when creating and IFLA_MASTER when changing.
 */
export function linkSettingsAttributes(settings: Partial<LinkSettings>, related?: Attribute): AttributeList {
  return [
    attr.u32(IFLA_MTU, settings.mtu),
    attr.bytes(IFLA_ADDRESS, settings.mac === undefined ? undefined : macToBytes(settings.mac)),
    attr.u32(IFLA_TXQLEN, settings.txQueueLen),
    attr.u32(IFLA_NET_NS_FD, settings.netnsFd),
    related,
    attr.string(IFLA_IFNAME, settings.name),
  ];
}

export function dumpLinksRequest(): Request {
  return request(RTM_GETLINK, NLM_F_DUMP, ifinfomsg.encode({ family: AF_UNSPEC }), [
    attr.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
  ]);
}

export function getLinkRequest(by: { name: string } | { index: number }): Request {
  const index = "index" in by ? by.index : 0;
  return request(RTM_GETLINK, NLM_F_ACK, ifinfomsg.encode({ family: AF_UNSPEC, index }), [
    attr.u32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS),
    "name" in by ? attr.string(IFLA_IFNAME, by.name) : undefined,
  ]);
}

export function setLinkRequest(index: number, change: LinkChange): Request {
  let flags = 0;
  let changed = 0;
  for (const [wanted, bit] of [
    [change.up, IFF_UP],
    [change.promisc, IFF_PROMISC],
    [change.allmulti, IFF_ALLMULTI],
  ] as const) {
    if (wanted === undefined) continue;
    changed |= bit;
    if (wanted) flags |= bit;
  }
  return request(RTM_NEWLINK, NLM_F_ACK, ifinfomsg.encode({ family: AF_UNSPEC, index, flags, change: changed }), [
    ...linkSettingsAttributes(change, attr.u32(IFLA_MASTER, change.master)),
    // Without a terminator, as iproute2 sends it: an empty payload removes the alias.
    attr.unterminatedString(IFLA_IFALIAS, change.alias),
  ]);
}

export function deleteLinkRequest(index: number): Request {
  return request(RTM_DELLINK, NLM_F_ACK, ifinfomsg.encode({ family: AF_UNSPEC, index }));
}

/** Words for a change, for error messages: "up, mtu 1400, master 3". */
export function describeLinkChange(change: LinkChange): string {
  const parts: string[] = [];
  if (change.name !== undefined) parts.push(`name ${change.name}`);
  if (change.up !== undefined) parts.push(change.up ? "up" : "down");
  if (change.mtu !== undefined) parts.push(`mtu ${change.mtu}`);
  if (change.mac !== undefined) parts.push(`address ${change.mac}`);
  if (change.txQueueLen !== undefined) parts.push(`txqueuelen ${change.txQueueLen}`);
  if (change.promisc !== undefined) parts.push(`promisc ${change.promisc ? "on" : "off"}`);
  if (change.allmulti !== undefined) parts.push(`allmulticast ${change.allmulti ? "on" : "off"}`);
  if (change.master !== undefined) parts.push(change.master === 0 ? "nomaster" : `master ${change.master}`);
  if (change.netnsFd !== undefined) parts.push("netns");
  if (change.alias !== undefined) parts.push(change.alias === "" ? "no alias" : `alias ${change.alias}`);
  return parts.join(", ");
}

export function decodeLink(message: NetlinkMessage): Link {
  const { header, attributes } = decodeBody(message, ifinfomsg);
  const linkInfo = attributes.nested(IFLA_LINKINFO);
  const kind = linkInfo?.string(IFLA_INFO_KIND);
  const mac = attributes.bytes(IFLA_ADDRESS);

  const data = linkInfo?.nested(IFLA_INFO_DATA);
  // Port settings come in the slave data of ordinary dumps and in IFLA_PROTINFO of AF_BRIDGE ones.
  const portData =
    linkInfo?.string(IFLA_INFO_SLAVE_KIND) === "bridge"
      ? linkInfo.nested(IFLA_INFO_SLAVE_DATA)
      : header.family === AF_BRIDGE
        ? attributes.nested(IFLA_PROTINFO)
        : undefined;

  const link: Link = {
    index: header.index,
    name: attributes.string(IFLA_IFNAME) ?? "",
    flags: header.flags,
    up: (header.flags & IFF_UP) !== 0,
    operState: OPER_STATES[attributes.u8(IFLA_OPERSTATE) ?? 0] ?? "unknown",
    mtu: attributes.u32(IFLA_MTU) ?? 0,
    txQueueLen: attributes.u32(IFLA_TXQLEN) ?? 0,
    promisc: (header.flags & IFF_PROMISC) !== 0,
    allmulti: (header.flags & IFF_ALLMULTI) !== 0,
  };
  return withOptional(link, {
    kind,
    mac: mac && bytesToMac(mac),
    master: attributes.u32(IFLA_MASTER),
    parentIndex: attributes.u32(IFLA_LINK),
    linkNetnsId: attributes.i32(IFLA_LINK_NETNSID),
    ...(data && decodeKindData(kind, data)),
    bridgePort: portData && decodeBridgePort(portData),
    alias: attributes.string(IFLA_IFALIAS) || undefined,
  });
}

function decodeKindData(kind: string | undefined, data: AttributeSet): Partial<Link> {
  switch (kind) {
    case "bridge":
      return { bridge: { vlanFiltering: data.bool(IFLA_BR_VLAN_FILTERING) ?? false } };
    case "macvlan":
    case "macvtap":
      return { macvlan: { mode: macvlanModeName(data.u32(IFLA_MACVLAN_MODE) ?? 0), bcQueueLen: data.u32(IFLA_MACVLAN_BC_QUEUE_LEN) } };
    case "ipvlan":
      return {
        ipvlan: {
          mode: ipvlanModeName(data.u16(IFLA_IPVLAN_MODE) ?? 0),
          flags: ipvlanFlagsName(data.u16(IFLA_IPVLAN_FLAGS) ?? 0),
        },
      };
    case "vlan":
      return { vlan: { id: data.u16(IFLA_VLAN_ID) ?? 0 } };
    case "vrf":
      return { vrf: { table: data.u32(IFLA_VRF_TABLE) ?? 0 } };
    default:
      return {};
  }
}

function decodeBridgePort(data: AttributeSet): BridgePortInfo {
  return {
    hairpin: data.bool(IFLA_BRPORT_MODE) ?? false,
    isolated: data.bool(IFLA_BRPORT_ISOLATED) ?? false,
    learning: data.bool(IFLA_BRPORT_LEARNING) ?? false,
  };
}
