import {
  attr,
  type AttributeSet,
  concatBytes,
  decodeBody,
  type NetlinkMessage,
  NLA_F_NESTED,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  type Request,
  request,
  RTM_GETTFILTER,
  RTM_NEWTFILTER,
  TCA_KIND,
  TCA_OPTIONS,
  tcmsg,
} from "../netlink/index.ts";
import {
  ETH_P_ALL,
  TC_ACT_STOLEN,
  TC_U32_TERMINAL,
  TCA_ACT_KIND,
  TCA_ACT_OPTIONS,
  TCA_ACT_TAB,
  TCA_EGRESS_MIRROR,
  TCA_EGRESS_REDIR,
  TCA_INGRESS_MIRROR,
  TCA_INGRESS_REDIR,
  TCA_MIRRED_PARMS,
  TCA_U32_ACT,
  TCA_U32_CLASSID,
  TCA_U32_SEL,
} from "./constants.ts";
import { tcMirred, tcU32Key, tcU32Sel } from "./structs.ts";

/**
 * A u32 filter matching every packet (one key: mask 0, value 0) whose only action redirects it
 * to the egress of another device (mirred egress redirect): how traffic entering a device is
 * handed to an ifb device to be shaped there.
 */
export interface NewRedirectFilter {
  /** The qdisc the filter hangs off (ffff: for an ingress qdisc). */
  parent: number;
  priority: number;
  classId: number;
  /** Index of the device packets are redirected to. */
  target: number;
}

/** A filter as the kernel reports it. A u32 filter dumps as its table, its hash table and its nodes. */
export interface Filter {
  index: number;
  parent: number;
  handle: number;
  priority: number;
  /** ETH_P_* in host order (3 for all). */
  protocol: number;
  kind: string;
  /** u32 nodes only: TCA_U32_CLASSID, the keys of TCA_U32_SEL and the actions. */
  u32?: U32Node;
}

export interface U32Node {
  classId?: number;
  keys: U32Key[];
  actions: FilterAction[];
}

export interface U32Key {
  mask: number;
  value: number;
  offset: number;
}

/** One entry of a filter's action list; `mirred` is set for mirred actions. */
export interface FilterAction {
  order: number;
  kind: string;
  mirred?: MirredAction;
}

export interface MirredAction {
  direction: "egress" | "ingress";
  mode: "redirect" | "mirror";
  /** The target device's index. */
  ifindex: number;
  /** TC_ACT_* verdict after the action (4, stolen, for a redirect). */
  verdict: number;
}

const MIRRED_ACTIONS: Record<number, Pick<MirredAction, "direction" | "mode">> = {
  [TCA_EGRESS_REDIR]: { direction: "egress", mode: "redirect" },
  [TCA_EGRESS_MIRROR]: { direction: "egress", mode: "mirror" },
  [TCA_INGRESS_REDIR]: { direction: "ingress", mode: "redirect" },
  [TCA_INGRESS_MIRROR]: { direction: "ingress", mode: "mirror" },
};

/**
 * RTM_NEWTFILTER as `tc filter add dev D parent P protocol all prio N u32 match u32 0 0
 * classid C action mirred egress redirect dev T` sends it, attribute for attribute.
 *
 * The reference plugin asks for the same filter through its netlink library, which adds the
 * redirect twice (a second mirred action with verdict "pass" after the first); the first one
 * steals every packet, so the second never runs and is left out here.
 */
export function addRedirectFilterRequest(index: number, filter: NewRedirectFilter): Request {
  const header = tcmsg.encode({ index, parent: filter.parent, info: filterInfo(filter.priority, ETH_P_ALL) });
  const matchAll = concatBytes([tcU32Sel.encode({ flags: TC_U32_TERMINAL, nkeys: 1 }), tcU32Key.encode({})]);
  const mirred = tcMirred.encode({ action: TC_ACT_STOLEN, eaction: TCA_EGRESS_REDIR, ifindex: filter.target });
  return request(RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, header, [
    attr.string(TCA_KIND, "u32"),
    attr.nested(TCA_OPTIONS, [
      attr.u32(TCA_U32_CLASSID, filter.classId),
      attr.nested(TCA_U32_ACT, [
        attr.nested(TCA_ACT_TAB, [
          attr.string(TCA_ACT_KIND, "mirred"),
          attr.nested(TCA_ACT_OPTIONS | NLA_F_NESTED, [attr.bytes(TCA_MIRRED_PARMS, mirred)]),
        ]),
      ]),
      attr.bytes(TCA_U32_SEL, matchAll),
    ]),
  ]);
}

/** RTM_GETTFILTER dump of one device's filters under one parent, as `tc filter show dev D parent P`. */
export function dumpFiltersRequest(index: number, parent: number): Request {
  return request(RTM_GETTFILTER, 0, tcmsg.encode({ index, parent }));
}

export function decodeFilter(message: NetlinkMessage): Filter {
  const { header, attributes } = decodeBody(message, tcmsg);
  const kind = attributes.string(TCA_KIND) ?? "";
  const filter: Filter = {
    index: header.index,
    parent: header.parent,
    handle: header.handle,
    priority: header.info >>> 16,
    protocol: swap16(header.info & 0xffff),
    kind,
  };
  // Options are kind-specific; only u32 nodes (not the u32 table or hash tables) carry a selector.
  const options = kind === "u32" ? attributes.nested(TCA_OPTIONS) : undefined;
  if (options?.has(TCA_U32_SEL)) filter.u32 = decodeU32Node(options);
  return filter;
}

/** tcm_info of a filter: priority in the upper half, the protocol in network order in the lower. */
function filterInfo(priority: number, protocol: number): number {
  return ((priority << 16) | swap16(protocol)) >>> 0;
}

function swap16(value: number): number {
  return ((value & 0xff) << 8) | (value >>> 8);
}

function decodeU32Node(options: AttributeSet): U32Node {
  const selector = options.bytes(TCA_U32_SEL)!;
  const { nkeys } = tcU32Sel.decode(selector);
  const keys: U32Key[] = [];
  for (let i = 0; i < nkeys; i++) {
    const key = tcU32Key.decode(selector, tcU32Sel.size + i * tcU32Key.size);
    keys.push({ mask: key.mask, value: key.val, offset: key.off });
  }
  const node: U32Node = { keys, actions: decodeActions(options.nested(TCA_U32_ACT)) };
  const classId = options.u32(TCA_U32_CLASSID);
  if (classId !== undefined) node.classId = classId;
  return node;
}

/** The action list: entries numbered by their order, from TCA_ACT_TAB up. */
function decodeActions(list: AttributeSet | undefined): FilterAction[] {
  const actions: FilterAction[] = [];
  for (let order = TCA_ACT_TAB; list?.has(order); order++) {
    const entry = list.nested(order)!;
    const action: FilterAction = { order, kind: entry.string(TCA_ACT_KIND) ?? "" };
    const parms = action.kind === "mirred" ? entry.nested(TCA_ACT_OPTIONS)?.bytes(TCA_MIRRED_PARMS) : undefined;
    if (parms) {
      const { eaction, ifindex, action: verdict } = tcMirred.decode(parms);
      const kind = MIRRED_ACTIONS[eaction];
      if (kind) action.mirred = { ...kind, ifindex, verdict };
    }
    actions.push(action);
  }
  return actions;
}
