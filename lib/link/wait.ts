import { setTimeout as sleep } from "node:timers/promises";
import { CniError, ErrorCode } from "../core/index.ts";
import type { Link, Rtnetlink } from "../netlink/index.ts";

/** The reference's waits for a link to come up (pkg/link's operstate polling): ~2.5 s in all. */
const UP_DELAYS_MS = [0, 50, 500, 1000, 1000];

/**
 * Polls a link until its operstate is "up" and returns it as read then. For a bridge port this
 * is when the bridge starts forwarding; for a veth end, when its peer is up too. Code 100 when
 * it vanishes or stays down.
 */
export async function waitUntilUp(nl: Rtnetlink, link: Link, delaysMs: readonly number[] = UP_DELAYS_MS): Promise<Link> {
  let state = link.operState;
  for (const delay of delaysMs) {
    if (delay) await sleep(delay);
    const current = nl.linkByIndex(link.index);
    if (!current) throw new CniError(ErrorCode.KernelOperationFailed, `${link.name} vanished while waiting for it to come up`);
    if (current.operState === "up") return current;
    state = current.operState;
  }
  throw new CniError(ErrorCode.KernelOperationFailed, `${link.name} stayed ${state} instead of coming up`);
}
