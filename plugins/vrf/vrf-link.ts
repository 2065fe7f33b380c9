import { createLink } from "../../lib/link/index.ts";
import type { Link, Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, invalidConfig, type Rollback } from "../../lib/skel/index.ts";
import type { VrfConfig } from "./config.ts";

/** A VRF device: a link of kind vrf, with its routing table. */
export type VrfLink = Link & { vrf: { table: number } };

export function isVrf(link: Link): link is VrfLink {
  return link.kind === "vrf" && link.vrf !== undefined;
}

/**
 * The VRF `vrfname` of the container, made (and set up) when absent, with `table` or the first
 * table from 1 that no other VRF of the namespace uses, as the reference picks it. A VRF made
 * here is registered on `rollback`.
 */
export function ensureVrf(container: Rtnetlink, config: VrfConfig, rollback: Rollback): VrfLink {
  const existing = container.linkByName(config.vrfname);
  if (existing) {
    if (!isVrf(existing)) throw invalidConfig("vrfname", config.vrfname, `${config.vrfname} exists in the container and is no VRF (kind ${existing.kind ?? "none"})`);
    if (config.table !== undefined && existing.vrf.table !== config.table) {
      throw invalidConfig("table", config.table, `VRF ${config.vrfname} already exists with table ${existing.vrf.table}`);
    }
    return existing;
  }
  const table = config.table ?? firstFreeTable(container);
  createLink(container, { kind: "vrf", name: config.vrfname, table });
  const made = container.linkByName(config.vrfname);
  if (!made || !isVrf(made)) throw new CniError(ErrorCode.KernelOperationFailed, `VRF ${config.vrfname} vanished after it was created`);
  rollback.add(`VRF ${config.vrfname}`, () => container.deleteLink(made.index));
  container.setLink(made.index, { up: true });
  return made;
}

function firstFreeTable(container: Rtnetlink): number {
  const taken = new Set(container.links().filter(isVrf).map((link) => link.vrf.table));
  let table = 1;
  while (taken.has(table)) table++;
  return table;
}

/** The links enslaved to the VRF. */
export function membersOf(container: Rtnetlink, vrf: Link): Link[] {
  return container.links().filter((link) => link.master === vrf.index);
}
