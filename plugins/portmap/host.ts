import { Cidr, IPAddress } from "../../lib/ip/index.ts";
import { RTN_UNICAST, Rtnetlink, type RouteEntry } from "../../lib/netlink/index.ts";
import { writeSysctl } from "../../lib/netns/index.ts";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";

/**
 * The container addresses to forward to, as the reference picks them from prevResult: per
 * family the first address, leaving out addresses of interfaces that are not the container's
 * own (another name, or no sandbox). An address tied to no interface counts.
 */
export function containerAddresses(prevResult: Result, ifname: string): string[] {
  const interfaces = prevResult.interfaces ?? [];
  const chosen = new Map<number, string>();
  for (const ipc of prevResult.ips ?? []) {
    const family = Cidr.parse(ipc.address).family;
    if (chosen.has(family)) continue;
    const owner = ipc.interface === undefined ? undefined : interfaces[ipc.interface];
    if (owner && (owner.name !== ifname || !owner.sandbox)) continue;
    chosen.set(family, ipc.address);
  }
  return [...chosen.values()];
}

/**
 * Lets packets from 127.0.0.0/8 leave through the host interface that routes to the container
 * (net.ipv4.conf.<if>.route_localnet), so that connections to 127.0.0.1:<hostPort> can be
 * DNATed to the container and masqueraded. IPv6 has no such switch: ::1 cannot be forwarded.
 */
export function enableLocalnetRouting(containerIP: string): void {
  const host = Rtnetlink.open();
  let name: string | undefined;
  try {
    const route = routeTo(host.routes({ family: 4 }), IPAddress.parse(containerIP));
    name = route?.index === undefined ? undefined : host.linkByIndex(route.index)?.name;
  } finally {
    host.close();
  }
  if (name === undefined) return; // no route to the container: nothing to open up, as in the reference
  try {
    writeSysctl(`net/ipv4/conf/${name}/route_localnet`, "1");
  } catch (error) {
    throw new CniError(ErrorCode.KernelOperationFailed, `enabling route_localnet on ${name}: ${(error as Error).message}`);
  }
}

/** The main table's most specific unicast route to the address (what the kernel would pick without policy rules). */
export function routeTo(routes: readonly RouteEntry[], address: IPAddress): RouteEntry | undefined {
  let best: { route: RouteEntry; prefixLength: number } | undefined;
  for (const route of routes) {
    if (route.type !== RTN_UNICAST || route.index === undefined) continue;
    const destination = Cidr.parse(route.dst);
    if (destination.family !== address.family || !destination.contains(address)) continue;
    if (!best || destination.prefixLength > best.prefixLength) best = { route, prefixLength: destination.prefixLength };
  }
  return best?.route;
}
