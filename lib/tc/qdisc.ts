import {
  AF_UNSPEC,
  attr,
  type AttributeSet,
  decodeBody,
  type NetlinkMessage,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  type Request,
  request,
  RTM_DELQDISC,
  RTM_GETQDISC,
  RTM_NEWQDISC,
  TC_H_INGRESS,
  TC_H_ROOT,
  TCA_KIND,
  TCA_OPTIONS,
  tcmsg,
} from "../netlink/index.ts";
import { TCA_TBF_PARMS, TCA_TBF_RATE64 } from "./constants.ts";
import { makeHandle } from "./handle.ts";
import { tcTbfQopt } from "./structs.ts";
import type { TbfParameters } from "./tbf.ts";
import { readU64, u64Bytes } from "./u64.ts";

/** A queueing discipline as the kernel reports it; `tbf` is set for tbf qdiscs. */
export interface Qdisc {
  index: number;
  kind: string;
  handle: number;
  parent: number;
  tbf?: TbfParameters;
}

/** The handle every ingress qdisc has (ffff:), as tc gives it. */
export const INGRESS_HANDLE = makeHandle(0xffff, 0);

/** A qdisc to add: a tbf at a handle and parent, or the device's ingress qdisc. */
export type NewQdisc =
  | { kind: "tbf"; handle: number; parent: number; tbf: TbfParameters }
  | { kind: "ingress" };

/** Where a qdisc to delete sits: the device's root (whatever it is) or its ingress qdisc. */
export type QdiscPosition = "root" | "ingress";

const U32_LIMIT = 2 ** 32;

/**
 * RTM_NEWQDISC, failing when the place is taken. The ingress qdisc is encoded as
 * `tc qdisc add dev D handle ffff: ingress` sends it; tbf as the reference plugin sends it
 * (TCA_TBF_PARMS with the buffer in ticks, no TCA_TBF_BURST or rate table), so the kernel keeps
 * exactly the buffer given, which is what CHECK compares.
 */
export function addQdiscRequest(index: number, qdisc: NewQdisc): Request {
  const flags = NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK;
  if (qdisc.kind === "ingress") {
    return request(RTM_NEWQDISC, flags, tcmsg.encode({ index, handle: INGRESS_HANDLE, parent: TC_H_INGRESS }), [
      attr.string(TCA_KIND, "ingress"),
    ]);
  }
  const { rate, buffer, limit } = qdisc.tbf;
  return request(RTM_NEWQDISC, flags, tcmsg.encode({ index, handle: qdisc.handle, parent: qdisc.parent }), [
    attr.string(TCA_KIND, "tbf"),
    attr.nested(TCA_OPTIONS, [
      // Rates that do not fit 32 bits travel in TCA_TBF_RATE64; the 32-bit field then says
      // "at least this much" (the kernel takes the larger of the two).
      attr.bytes(TCA_TBF_PARMS, tcTbfQopt.encode({ rate: Math.min(rate, U32_LIMIT - 1), buffer, limit })),
      attr.bytes(TCA_TBF_RATE64, rate >= U32_LIMIT ? u64Bytes(rate) : undefined),
    ]),
  ]);
}

/** RTM_DELQDISC as `tc qdisc del dev D root` and `tc qdisc del dev D ingress` send it. */
export function deleteQdiscRequest(index: number, position: QdiscPosition): Request {
  if (position === "root") return request(RTM_DELQDISC, NLM_F_ACK, tcmsg.encode({ index, parent: TC_H_ROOT }));
  return request(RTM_DELQDISC, NLM_F_ACK, tcmsg.encode({ index, handle: INGRESS_HANDLE, parent: TC_H_INGRESS }), [
    attr.string(TCA_KIND, "ingress"),
  ]);
}

/**
 * RTM_GETQDISC dump as `tc qdisc show dev D` sends it. The kernel dumps every device's qdiscs
 * regardless of the index; the caller keeps the device's own.
 */
export function dumpQdiscsRequest(index: number): Request {
  return request(RTM_GETQDISC, 0, tcmsg.encode({ index }));
}

export function decodeQdisc(message: NetlinkMessage): Qdisc {
  const { header, attributes } = decodeBody(message, tcmsg);
  const kind = attributes.string(TCA_KIND) ?? "";
  const qdisc: Qdisc = { index: header.index, kind, handle: header.handle, parent: header.parent };
  // Options are kind-specific, and not always attributes (pfifo_fast sends a bare struct).
  const options = kind === "tbf" ? attributes.nested(TCA_OPTIONS) : undefined;
  const tbf = options && decodeTbfOptions(options);
  if (tbf) qdisc.tbf = tbf;
  return qdisc;
}

function decodeTbfOptions(options: AttributeSet): TbfParameters | undefined {
  const parms = options.bytes(TCA_TBF_PARMS);
  if (!parms) return undefined;
  const { rate, buffer, limit } = tcTbfQopt.decode(parms);
  const rate64 = options.bytes(TCA_TBF_RATE64);
  return { rate: rate64 ? readU64(rate64) : rate, buffer, limit };
}
