import { type AttributeList, attr, encodeAttributes } from "./attributes.ts";
import { concatBytes } from "./bytes.ts";
import {
  AF_UNSPEC,
  IFLA_BR_VLAN_DEFAULT_PVID,
  IFLA_BR_VLAN_FILTERING,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_IPVLAN_FLAGS,
  IFLA_IPVLAN_MODE,
  IFLA_LINK,
  IFLA_LINKINFO,
  IFLA_MACVLAN_BC_QUEUE_LEN,
  IFLA_MACVLAN_MODE,
  IFLA_VLAN_ID,
  IFLA_VRF_TABLE,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  RTM_NEWLINK,
  VETH_INFO_PEER,
} from "./constants.ts";
import { type NetlinkError, UNKNOWN_DEVICE_TYPE, isNotSupported } from "./errors.ts";
import { ifinfomsg } from "./headers.ts";
import { type LinkSettings, linkSettingsAttributes } from "./link.ts";
import {
  IPVLAN_FLAGS,
  IPVLAN_MODES,
  type IpvlanFlags,
  type IpvlanMode,
  MACVLAN_MODES,
  type MacvlanMode,
} from "./link-modes.ts";
import { type Request, request } from "./message.ts";

export interface NewVeth extends LinkSettings {
  kind: "veth";
  /** The other end; give netnsFd to create it directly inside a container's namespace. */
  peer: LinkSettings;
}

export interface NewBridge extends LinkSettings {
  kind: "bridge";
  /** Only `true` is sent: filtering is off by default, and kernels without it refuse the option. */
  vlanFiltering?: boolean;
  vlanDefaultPvid?: number;
}

export interface NewMacvlan extends LinkSettings {
  kind: "macvlan";
  parentIndex: number;
  /** The kernel's default is vepa. */
  mode?: MacvlanMode;
  /** Length of the queue of broadcast and multicast frames to the macvlans of one master. */
  bcQueueLen?: number;
}

export interface NewIpvlan extends LinkSettings {
  kind: "ipvlan";
  parentIndex: number;
  /** The kernel's default is l3. */
  mode?: IpvlanMode;
  flags?: IpvlanFlags;
}

export interface NewVlan extends LinkSettings {
  kind: "vlan";
  parentIndex: number;
  vlanId: number;
}

export interface NewVrf extends LinkSettings {
  kind: "vrf";
  table: number;
}

export interface NewPlainLink extends LinkSettings {
  kind: "ifb" | "dummy";
}

/** A link to create, by kind. */
export type NewLink = NewVeth | NewBridge | NewMacvlan | NewIpvlan | NewVlan | NewVrf | NewPlainLink;

export function createLinkRequest(spec: NewLink): Request {
  const parent = "parentIndex" in spec ? attr.u32(IFLA_LINK, spec.parentIndex) : undefined;
  const data = infoData(spec);
  return request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, ifinfomsg.encode({ family: AF_UNSPEC }), [
    ...linkSettingsAttributes(spec, parent),
    attr.nested(IFLA_LINKINFO, [
      // iproute2 sends the kind without its NUL; the kernel takes either.
      attr.unterminatedString(IFLA_INFO_KIND, spec.kind),
      data && attr.nested(IFLA_INFO_DATA, data),
    ]),
  ]);
}

/** The kind-specific attributes inside IFLA_INFO_DATA, or undefined when the kind has none. */
function infoData(spec: NewLink): AttributeList | undefined {
  switch (spec.kind) {
    case "veth":
      // The peer is an ifinfomsg followed by link attributes, like a nested RTM_NEWLINK.
      return [
        attr.bytes(
          VETH_INFO_PEER,
          concatBytes([ifinfomsg.encode({ family: AF_UNSPEC }), encodeAttributes(linkSettingsAttributes(spec.peer))]),
        ),
      ];
    case "bridge": {
      const attributes = [
        attr.u8(IFLA_BR_VLAN_FILTERING, spec.vlanFiltering ? 1 : undefined),
        attr.u16(IFLA_BR_VLAN_DEFAULT_PVID, spec.vlanDefaultPvid),
      ];
      return attributes.some(Boolean) ? attributes : undefined;
    }
    case "macvlan": {
      const attributes = [
        // iproute2's order: the queue length first.
        attr.u32(IFLA_MACVLAN_BC_QUEUE_LEN, spec.bcQueueLen),
        attr.u32(IFLA_MACVLAN_MODE, spec.mode === undefined ? undefined : MACVLAN_MODES[spec.mode]),
      ];
      return attributes.some(Boolean) ? attributes : undefined;
    }
    case "ipvlan": {
      const attributes = [
        attr.u16(IFLA_IPVLAN_MODE, spec.mode === undefined ? undefined : IPVLAN_MODES[spec.mode]),
        attr.u16(IFLA_IPVLAN_FLAGS, spec.flags === undefined ? undefined : IPVLAN_FLAGS[spec.flags]),
      ];
      return attributes.some(Boolean) ? attributes : undefined;
    }
    case "vlan":
      return [attr.u16(IFLA_VLAN_ID, spec.vlanId)];
    case "vrf":
      return [attr.u32(IFLA_VRF_TABLE, spec.table)];
    case "ifb":
    case "dummy":
      return undefined;
  }
}

/**
 * Words for the request, for error messages. `nameOf` turns a parent's index into its name.
 * "create veth veth1234 (peer eth0 in netns)", "create link mv0 (macvlan on eth0)".
 */
export function describeNewLink(spec: NewLink, nameOf: (index: number) => string): string {
  if (spec.kind === "veth") {
    return `create veth ${spec.name} (peer ${spec.peer.name}${spec.peer.netnsFd === undefined ? "" : " in netns"})`;
  }
  const parent = "parentIndex" in spec ? ` on ${nameOf(spec.parentIndex)}` : "";
  const where = spec.netnsFd === undefined ? "" : " in netns";
  return `create link ${spec.name} (${spec.kind}${parent})${where}`;
}

/**
 * Recognizes the ways a kernel says it lacks what the spec needs: "Unknown device type" when no
 * driver for the kind is built or loadable, a bare EOPNOTSUPP for bridge VLAN options when
 * CONFIG_BRIDGE_VLAN_FILTERING is off.
 */
export function explainCreateFailure(spec: NewLink, error: NetlinkError): NetlinkError {
  if (!isNotSupported(error)) return error;
  if (error.extack === UNKNOWN_DEVICE_TYPE) return error.asMissingFeature(spec.kind);
  if (spec.kind === "bridge" && (spec.vlanFiltering || spec.vlanDefaultPvid !== undefined)) {
    return error.asMissingFeature("bridge VLAN filtering");
  }
  return error;
}
