import type { Attachment } from "../../lib/link/index.ts";
import type { Link, Rtnetlink } from "../../lib/netlink/index.ts";
import type { NetNS } from "../../lib/netns/index.ts";
import { CniError, ErrorCode, invalidEnvironment, log, type Rollback } from "../../lib/skel/index.ts";
import type { OriginalDevice } from "./state.ts";

/**
 * Moves a host device into the container under `ifname`, recording its host name in its alias
 * (as the reference does), and brings it up there. The move and the rename are one netlink
 * request, so the device never carries a temporary name on either side (the reference uses a
 * temporary namespace for the same reason: udev and NetworkManager race with quick renames).
 * Each step is registered on `rollback`, so a failed ADD leaves the device on the host as found.
 */
export function moveIntoContainer(attachment: Attachment, hostNs: NetNS, device: Link, ifname: string, rollback: Rollback): Link {
  const { host, container } = attachment;
  if (container.linkByName(ifname)) throw invalidEnvironment("CNI_IFNAME", `an interface named ${ifname} already exists in the container`);

  if (device.up) rollback.add(`bringing ${device.name} back up`, () => setUpByName(host, device.name));
  host.setLink(device.index, { alias: device.name });
  rollback.add(`the alias of ${device.name}`, () => setAliasByName(host, device.name, device.alias ?? ""));

  host.setLink(device.index, { netnsFd: attachment.netns.fd, name: ifname });
  rollback.add(`moving ${ifname} back to the host as ${device.name}`, () => {
    const moved = container.linkByName(ifname);
    if (moved) container.setLink(moved.index, { up: false, netnsFd: hostNs.fd, name: device.name });
  });

  const moved = container.linkByName(ifname);
  if (!moved) throw new CniError(ErrorCode.KernelOperationFailed, `${device.name} was moved into the container as ${ifname} but is not there`);
  container.setLink(moved.index, { up: true });
  return container.linkByName(ifname) ?? moved;
}

/**
 * Moves the device the container has under `ifname` back to the host under its original name
 * (the alias, or the saved record when the alias was lost), with the MAC and MTU it had there
 * and its former alias. It comes back down, as in the reference: its former state is the
 * host's business. No such interface: nothing to do (DEL is idempotent). An interface without
 * a name to go back to is not one host-device moved in, and is left alone.
 */
export function moveOutOfContainer(attachment: Attachment, hostNs: NetNS, ifname: string, original: OriginalDevice | undefined): void {
  const { host, container } = attachment;
  const link = container.linkByName(ifname);
  if (!link) return;
  const hostName = link.alias ?? original?.device;
  if (!hostName) {
    log(`host-device DEL: ${ifname} in the container has no alias naming its host interface; left where it is`);
    return;
  }
  if (host.linkByName(hostName)) {
    throw new CniError(ErrorCode.KernelOperationFailed, `cannot move ${ifname} back to the host as ${hostName}: the host has another interface of that name`);
  }
  // Down first: some drivers refuse a new MAC while the link is up.
  container.setLink(link.index, { up: false });
  if (original && original.device === hostName) restoreSettings(container, link, original);
  container.setLink(link.index, { netnsFd: hostNs.fd, name: hostName });
  setAliasByName(host, hostName, original?.device === hostName ? (original.alias ?? "") : "");
}

function restoreSettings(nl: Rtnetlink, link: Link, original: OriginalDevice): void {
  if (original.mtu && link.mtu !== original.mtu) nl.setLink(link.index, { mtu: original.mtu });
  if (original.mac && link.mac?.toLowerCase() !== original.mac.toLowerCase()) nl.setLink(link.index, { mac: original.mac });
}

function setUpByName(nl: Rtnetlink, name: string): void {
  const link = nl.linkByName(name);
  if (link) nl.setLink(link.index, { up: true });
}

function setAliasByName(nl: Rtnetlink, name: string, alias: string): void {
  const link = nl.linkByName(name);
  if (link) nl.setLink(link.index, { alias });
}

/**
 * DEL with the container's namespace gone. When a namespace is destroyed, the kernel deletes
 * the virtual devices in it (a veth) and returns the physical ones to the initial namespace under
 * the name they had inside (or "dev<N>" when taken), still carrying our alias. Such a device is
 * renamed back and given its MAC, MTU and alias again. Needs the saved record: an alias alone
 * does not prove the device was ours.
 */
export function reclaimReturnedDevice(host: Rtnetlink, original: OriginalDevice): void {
  if (host.linkByName(original.device)) return;
  const returned = host.links().find((link) => link.alias === original.device && link.name !== original.device);
  if (!returned) return;
  host.setLink(returned.index, { up: false });
  restoreSettings(host, returned, original);
  host.setLink(returned.index, { name: original.device, alias: original.alias ?? "" });
}
