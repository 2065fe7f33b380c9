import { isNotFound, type Link, type Rtnetlink } from "../netlink/index.ts";
import type { DelAttachment } from "./attachment.ts";

/**
 * The global addresses on an interface, as CIDR ("10.1.0.5/24"); undefined when there is no
 * such interface. Link-local addresses are the kernel's own and left out.
 */
export function interfaceAddresses(nl: Rtnetlink, ifname: string): string[] | undefined {
  const link = nl.linkByName(ifname);
  if (!link) return undefined;
  return nl
    .addresses({ index: link.index })
    .filter((address) => address.scope === 0)
    .map((address) => `${address.address}/${address.prefixLength}`);
}

/**
 * DEL of a container interface in the order that works for every IPAM: read the interface's
 * addresses, then `release` them (IPAM DEL; a DHCP IPAM still needs the interface to send its
 * release), then delete the interface (a veth takes its host end with it). Returns the
 * addresses it had, for host rules that name them (masquerading); undefined when the container
 * side or the interface is already gone, in which case `release` still runs.
 */
export async function releaseAndDeleteInterface(
  attachment: DelAttachment,
  ifname: string,
  release: () => Promise<void>,
): Promise<string[] | undefined> {
  const { container } = attachment;
  const addresses = container ? interfaceAddresses(container, ifname) : undefined;
  await release();
  if (container) deleteLinkByName(container, ifname);
  return addresses;
}

/** Deletes a link by name; one already gone is fine (DEL is idempotent). */
export function deleteLinkByName(nl: Rtnetlink, name: string): void {
  const link = nl.linkByName(name);
  if (!link) return;
  try {
    nl.deleteLink(link.index);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/**
 * DEL when the container side is gone: its namespace may still live on (a process holds it
 * after the runtime's bind mount was removed), and with it the veth pair. Deletes the host end
 * `name` (as prevResult lists it) if it is still a veth whose peer is in another namespace and
 * `isOurs` agrees (a port of our bridge, say), so that it does not outlive the attachment.
 */
export function deleteOrphanedHostVeth(host: Rtnetlink, name: string, isOurs: (link: Link) => boolean): void {
  const link = host.linkByName(name);
  if (!link || link.kind !== "veth" || link.linkNetnsId === undefined || !isOurs(link)) return;
  try {
    host.deleteLink(link.index);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
