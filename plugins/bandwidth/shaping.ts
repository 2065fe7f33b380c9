import { hashWithPrefix } from "../../lib/core/index.ts";
import { createLink } from "../../lib/link/index.ts";
import { type Link, type Rtnetlink, isNotFound } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, type Rollback } from "../../lib/skel/index.ts";
import { INGRESS_HANDLE, TC_H_ROOT, type TbfParameters, type TrafficControl, makeHandle } from "../../lib/tc/index.ts";

/**
 * How bandwidth shapes a container, as the reference does it:
 *  - traffic into the container leaves the host through the host-side veth, so a tbf qdisc at
 *    that veth's root shapes it;
 *  - traffic out of the container enters the host through the same veth, where nothing can
 *    queue it; an ingress qdisc with a u32 match-all filter hands every packet to an ifb device
 *    (mirred egress redirect), whose root tbf shapes it as it leaves the ifb.
 */

/** The tbf's handle, and the class id of the redirect filter, the reference uses. */
export const TBF_HANDLE = makeHandle(1, 0);
export const REDIRECT_CLASS_ID = makeHandle(1, 1);
export const REDIRECT_PRIORITY = 1;

const IFB_NAME_LENGTH = 15;

/** "bwp" + SHA-512 of network name and container ID, as the reference names the ifb device. */
export function ifbName(network: string, containerId: string): string {
  return hashWithPrefix(IFB_NAME_LENGTH, "bwp", network + containerId);
}

export function shapeIngress(tc: TrafficControl, hostVeth: Link, tbf: TbfParameters, rollback: Rollback): void {
  tc.addQdisc(hostVeth, { kind: "tbf", handle: TBF_HANDLE, parent: TC_H_ROOT, tbf });
  rollback.add(`tbf qdisc of ${hostVeth.name}`, () => tc.deleteQdisc(hostVeth, "root"));
}

/**
 * Creates the ifb (the host veth's MTU, up, and a transmit queue length of 0 like the
 * reference's), redirects the veth's incoming traffic to it and shapes it there. Returns the ifb.
 */
export function shapeEgress(
  host: Rtnetlink,
  tc: TrafficControl,
  hostVeth: Link,
  name: string,
  tbf: TbfParameters,
  rollback: Rollback,
): Link {
  // Without the ifb module, egress shaping cannot be done: code 2 naming egressRate.
  createLink(host, { kind: "ifb", name, mtu: hostVeth.mtu, txQueueLen: 0 }, "egressRate");
  const created = host.linkByName(name);
  if (!created) throw new CniError(ErrorCode.KernelOperationFailed, `ifb device ${name} vanished right after it was created`);
  rollback.add(`ifb device ${name}`, () => host.deleteLink(created.index));
  host.setLink(created.index, { up: true });
  const ifb = host.linkByIndex(created.index) ?? created;

  tc.addQdisc(hostVeth, { kind: "ingress" });
  rollback.add(`ingress qdisc of ${hostVeth.name}`, () => tc.deleteQdisc(hostVeth, "ingress"));
  tc.addRedirectFilter(hostVeth, { parent: INGRESS_HANDLE, priority: REDIRECT_PRIORITY, classId: REDIRECT_CLASS_ID, target: ifb.index });
  tc.addQdisc(ifb, { kind: "tbf", handle: TBF_HANDLE, parent: TC_H_ROOT, tbf });
  return ifb;
}

/**
 * Undoes the shaping of a host veth that is still there: its ingress qdisc (and so the filter)
 * when that redirects to the ifb or to a device that is gone, and its root qdisc when that is
 * the tbf. Qdiscs someone else put there are left alone; ones already gone are fine.
 */
export function unshape(host: Rtnetlink, tc: TrafficControl, hostVeth: Link, ifb: Link | undefined): void {
  const qdiscs = tc.qdiscs(hostVeth);
  if (qdiscs.some((qdisc) => qdisc.kind === "ingress") && redirectsAway(host, tc, hostVeth, ifb)) {
    ignoreNotFound(() => tc.deleteQdisc(hostVeth, "ingress"));
  }
  if (qdiscs.some((qdisc) => qdisc.parent === TC_H_ROOT && qdisc.kind === "tbf" && qdisc.handle === TBF_HANDLE)) {
    ignoreNotFound(() => tc.deleteQdisc(hostVeth, "root"));
  }
}

/** Whether the veth's ingress filters redirect to the ifb, or to a device that no longer exists. */
function redirectsAway(host: Rtnetlink, tc: TrafficControl, hostVeth: Link, ifb: Link | undefined): boolean {
  const targets = tc
    .filters(hostVeth, INGRESS_HANDLE)
    .flatMap((filter) => filter.u32?.actions ?? [])
    .flatMap((action) => (action.mirred?.mode === "redirect" ? [action.mirred.ifindex] : []));
  return targets.some((index) => index === ifb?.index || !host.linkByIndex(index));
}

export function ignoreNotFound(work: () => void): void {
  try {
    work();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
