import { CniError, ErrorCode, invalidConfig, invalidEnvironment } from "../core/index.ts";
import type { Link, NewIpvlan, NewMacvlan, NewVlan, Rtnetlink } from "../netlink/index.ts";
import type { Rollback } from "../skel/index.ts";
import type { Attachment } from "./attachment.ts";
import { createLink } from "./create.ts";

/**
 * Where a link made on a "master" (macvlan, ipvlan, vlan) finds that master: by name, or the
 * interface of the default route when no name is given; in the host namespace, or inside the
 * container's with `linkInContainer` (a master an earlier plugin put there).
 */
export interface MasterChoice {
  master?: string;
  linkInContainer: boolean;
}

/** The master and the socket of the namespace it lives in (where the child link is created). */
export interface Master {
  link: Link;
  nl: Rtnetlink;
  /** "the host's" or "the container's" (namespace), for messages. */
  where: string;
}

/**
 * Finds the master as the reference does; code 7 naming `master` when no interface has the
 * name, or when none is given and the namespace has no default route to take it from.
 */
export function resolveMaster(attachment: Attachment, choice: MasterChoice): Master {
  const found = lookupMaster(attachment, choice);
  if (found.link) return { link: found.link, nl: found.nl, where: found.where };
  if (choice.master === undefined) {
    throw invalidConfig("master", undefined, `not given, and ${found.where} namespace has no default route whose interface could be the master`);
  }
  throw invalidConfig("master", choice.master, `no interface of that name in ${found.where} namespace`);
}

/** The master's name and link (undefined when it is gone), for CHECK. */
export function lookupMaster(attachment: Attachment, choice: MasterChoice): { name?: string; link?: Link; nl: Rtnetlink; where: string } {
  const nl = choice.linkInContainer ? attachment.container : attachment.host;
  const where = choice.linkInContainer ? "the container's" : "the host's";
  const name = choice.master ?? defaultRouteInterface(nl);
  return { name, link: name === undefined ? undefined : nl.linkByName(name), nl, where };
}

/**
 * The name of the interface the first default route (IPv4 or IPv6, main table) goes out of, as
 * the reference picks it; undefined when there is none. A multipath default route names no
 * single interface and is passed over.
 */
export function defaultRouteInterface(nl: Rtnetlink): string | undefined {
  for (const route of nl.routes()) {
    if (!route.dst.endsWith("/0") || route.index === undefined) continue;
    const link = nl.linkByIndex(route.index);
    if (link) return link.name;
  }
  return undefined;
}

/** `mtu` of a link on a master: 0 (the master's) up to the master's own; code 7 naming mtu otherwise. */
export function requireMtuWithinMaster(mtu: number, master: Link): void {
  if (mtu > master.mtu) throw invalidConfig("mtu", mtu, `must be between 0 and the MTU of master ${master.name} (${master.mtu})`);
}

/** CHECK: the container interface still hangs off the master. */
export function checkParent(child: Link, master: Link): void {
  if (child.parentIndex !== master.index) {
    throw new CniError(ErrorCode.CheckFailed, `${child.name} is no longer a link on master ${master.name}`);
  }
}

/** A link on a master, by kind, without what createLinkOnMaster fills in. */
export type LinkOnMaster =
  | Omit<NewMacvlan, "name" | "parentIndex" | "netnsFd">
  | Omit<NewIpvlan, "name" | "parentIndex" | "netnsFd">
  | Omit<NewVlan, "name" | "parentIndex" | "netnsFd">;

/**
 * Creates a link on `master` as the container's interface `ifname`: made directly inside the
 * container's namespace (no create-then-move) whether the master is in the host's namespace or
 * in the container's. A name already taken in the container is code 4 (CNI_IFNAME); a kind the
 * kernel lacks is code 2 naming `field`. A failed ADD deletes it again (`rollback`).
 */
export function createLinkOnMaster(attachment: Attachment, master: Master, ifname: string, spec: LinkOnMaster, rollback: Rollback, field = "type"): Link {
  const { container, netns } = attachment;
  if (container.linkByName(ifname)) throw invalidEnvironment("CNI_IFNAME", `interface ${ifname} already exists in the container`);
  const netnsFd = master.nl === container ? undefined : netns.fd;
  createLink(master.nl, { ...spec, name: ifname, parentIndex: master.link.index, netnsFd }, field);
  const link = container.linkByName(ifname);
  if (!link) throw new CniError(ErrorCode.KernelOperationFailed, `${spec.kind} link ${ifname} vanished from the container right after it was created`);
  rollback.add(`${spec.kind} ${ifname}`, () => container.deleteLink(link.index));
  return link;
}
