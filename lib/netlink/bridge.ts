import { attr } from "./attributes.ts";
import {
  AF_BRIDGE,
  BRIDGE_FLAGS_SELF,
  BRIDGE_VLAN_INFO_PVID,
  BRIDGE_VLAN_INFO_UNTAGGED,
  IFLA_AF_SPEC,
  IFLA_BRIDGE_FLAGS,
  IFLA_BRIDGE_VLAN_INFO,
  IFLA_BRPORT_ISOLATED,
  IFLA_BRPORT_LEARNING,
  IFLA_BRPORT_MODE,
  IFLA_EXT_MASK,
  IFLA_PROTINFO,
  NLA_F_NESTED,
  NLM_F_ACK,
  NLM_F_DUMP,
  RTEXT_FILTER_BRVLAN,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_SETLINK,
} from "./constants.ts";
import { bridgeVlanInfo, ifinfomsg } from "./headers.ts";
import type { BridgePortInfo } from "./link.ts";
import { type NetlinkMessage, type Request, decodeBody, request } from "./message.ts";

/** Bridge port options to change; only the given ones are sent. */
export type BridgePortChange = Partial<BridgePortInfo>;

/** A VLAN on a bridge port (or, with self, on the bridge device itself). */
export interface BridgeVlan {
  vid: number;
  /** Untagged ingress frames get this VLAN. */
  pvid?: boolean;
  /** Egress frames of this VLAN leave untagged. */
  untagged?: boolean;
}

export interface BridgeVlanChange extends BridgeVlan {
  /** Apply to the bridge device itself rather than to the port (`bridge vlan ... self`). */
  self?: boolean;
}

/** RTM_SETLINK on AF_BRIDGE: the bridge only accepts port options in a *flagged* nested IFLA_PROTINFO. */
export function setBridgePortRequest(index: number, change: BridgePortChange): Request {
  return request(RTM_SETLINK, NLM_F_ACK, ifinfomsg.encode({ family: AF_BRIDGE, index }), [
    attr.nested(IFLA_PROTINFO | NLA_F_NESTED, [
      attr.bool(IFLA_BRPORT_MODE, change.hairpin),
      attr.bool(IFLA_BRPORT_LEARNING, change.learning),
      attr.bool(IFLA_BRPORT_ISOLATED, change.isolated),
    ]),
  ]);
}

export function bridgeVlanRequest(action: "add" | "delete", index: number, vlan: BridgeVlanChange): Request {
  const flags = (vlan.pvid ? BRIDGE_VLAN_INFO_PVID : 0) | (vlan.untagged ? BRIDGE_VLAN_INFO_UNTAGGED : 0);
  const type = action === "add" ? RTM_SETLINK : RTM_DELLINK;
  return request(type, NLM_F_ACK, ifinfomsg.encode({ family: AF_BRIDGE, index }), [
    attr.nested(IFLA_AF_SPEC, [
      attr.u16(IFLA_BRIDGE_FLAGS, vlan.self ? BRIDGE_FLAGS_SELF : undefined),
      attr.bytes(IFLA_BRIDGE_VLAN_INFO, bridgeVlanInfo.encode({ flags, vid: vlan.vid })),
    ]),
  ]);
}

/** Every bridge port and bridge with its VLANs (RTEXT_FILTER_BRVLAN asks for them, one entry per VLAN). */
export function dumpBridgeVlansRequest(): Request {
  return request(RTM_GETLINK, NLM_F_DUMP, ifinfomsg.encode({ family: AF_BRIDGE }), [
    attr.u32(IFLA_EXT_MASK, RTEXT_FILTER_BRVLAN),
  ]);
}

export function decodeBridgeVlans(message: NetlinkMessage): { index: number; vlans: BridgeVlan[] } {
  const { header, attributes } = decodeBody(message, ifinfomsg);
  const spec = attributes.nested(IFLA_AF_SPEC);
  const vlans = (spec?.all(IFLA_BRIDGE_VLAN_INFO) ?? []).map((bytes) => {
    const info = bridgeVlanInfo.decode(bytes);
    return {
      vid: info.vid,
      pvid: (info.flags & BRIDGE_VLAN_INFO_PVID) !== 0,
      untagged: (info.flags & BRIDGE_VLAN_INFO_UNTAGGED) !== 0,
    };
  });
  return { index: header.index, vlans };
}
