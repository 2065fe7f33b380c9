import type { Address, Link, NewRoute, RouteEntry, Rtnetlink } from "../../lib/netlink/index.ts";
import { IFA_F_NODAD, RT_SCOPE_UNIVERSE, RT_TABLE_MAIN, RTPROT_KERNEL } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, invalidEnvironment, type Rollback } from "../../lib/skel/index.ts";
import { sleepSync } from "../../lib/sys/index.ts";
import type { VrfLink } from "./vrf-link.ts";

/** How long, in all, to wait for the kernel to route a restored IPv6 address (the reference's 2.5 s). */
const ADDRESS_ROUTE_DELAYS_MS = [10, 20, 40, 80, 160, 320, 640, 1280];

/**
 * Makes `link` a member of the VRF and its routes the VRF table's. Enslaving cycles the link:
 * the kernel moves its connected and local routes into the VRF's table itself, but drops the
 * routes through gateways and, unless net.ipv6.conf.all.keep_addr_on_down is set, the global
 * IPv6 addresses. Those are saved before and put back after, as the reference does.
 */
export function enslave(container: Rtnetlink, link: Link, vrf: VrfLink, rollback: Rollback): void {
  if (link.master) {
    const master = container.linkByIndex(link.master)?.name ?? `index ${link.master}`;
    throw invalidEnvironment("CNI_IFNAME", `${link.name} already has a master (${master}); vrf enslaves an interface without one`);
  }
  const addresses = globalIpv6Addresses(container, link);
  // Connected routes the kernel makes again in the VRF's table. IPv6 ones have universe scope
  // too: copied, a second interface's fe80::/64 would replace the first one's.
  const routes = container.routes({ index: link.index }).filter((route) => route.scope === RT_SCOPE_UNIVERSE && route.protocol !== RTPROT_KERNEL);
  container.setLink(link.index, { master: vrf.index });
  rollback.add(`${link.name} in VRF ${vrf.name}`, () => {
    container.setLink(link.index, { master: 0 });
    restoreAddresses(container, link, addresses);
    for (const route of routes) container.addRoute(inTable(route, RT_TABLE_MAIN), "replace");
  });
  for (const address of restoreAddresses(container, link, addresses)) waitForLocalRoute(container, link, vrf, address);
  for (const route of routes) container.addRoute(inTable(route, vrf.vrf.table), "replace");
}

function globalIpv6Addresses(container: Rtnetlink, link: Link): Address[] {
  return container.addresses({ index: link.index, family: 6 }).filter((address) => address.scope === RT_SCOPE_UNIVERSE);
}

/** Adds back the addresses the link lost; returns them. */
function restoreAddresses(container: Rtnetlink, link: Link, saved: Address[]): Address[] {
  const present = new Set(globalIpv6Addresses(container, link).map((address) => address.address));
  const missing = saved.filter((address) => !present.has(address.address));
  for (const address of missing) {
    container.addAddress({ index: link.index, address: address.address, prefixLength: address.prefixLength, noDad: (address.flags & IFA_F_NODAD) !== 0 });
  }
  return missing;
}

/** Waits until the kernel routes a restored address in the VRF's table. */
function waitForLocalRoute(container: Rtnetlink, link: Link, vrf: VrfLink, address: Address): void {
  const isIt = (route: RouteEntry) => route.dst === `${address.address}/128`;
  for (const delay of [0, ...ADDRESS_ROUTE_DELAYS_MS]) {
    sleepSync(delay);
    if (container.routes({ family: 6, table: vrf.vrf.table, index: link.index }).some(isIt)) return;
  }
  throw new CniError(ErrorCode.KernelOperationFailed, `${address.address} on ${link.name} got no route in VRF ${vrf.name}'s table ${vrf.vrf.table}`);
}

function inTable(route: RouteEntry, table: number): NewRoute {
  const { family: _family, ...rest } = route;
  return { ...rest, table };
}
