import { deleteOrphanedHostVeth } from "../../lib/link/index.ts";
import { RT_SCOPE_HOST, isExists, type Link, type Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { hostPrefix, peerAddresses, type PeerAddress } from "./addresses.ts";

/**
 * The host end answers for the gateway (a /32 or /128 host address: every ptp host end carries
 * the same gateway, each on its own link) and routes each container address to the container
 * alone. IPv6 duplicate address detection is skipped for the gateway: the address is meant to
 * be on many links at once, and the container could not reach it while it is tentative.
 */
export function configureHostEnd(host: Rtnetlink, hostEnd: Link, addresses: readonly PeerAddress[]): void {
  for (const { address, gateway } of addresses) {
    ignoreExisting(() =>
      host.addAddress({ index: hostEnd.index, address: gateway.toString(), prefixLength: gateway.family === 4 ? 32 : 128, noDad: true }),
    );
    ignoreExisting(() => host.addRoute({ dst: hostPrefix(address.address), index: hostEnd.index, scope: RT_SCOPE_HOST }));
  }
}

function ignoreExisting(add: () => void): void {
  try {
    add();
  } catch (error) {
    if (!isExists(error)) throw error;
  }
}

/** CHECK: the host end still holds the gateways and the routes to the container's addresses. */
export function checkHostEnd(host: Rtnetlink, hostEnd: Link, addresses: readonly PeerAddress[]): void {
  const present = host.addresses({ index: hostEnd.index }).map((entry) => `${entry.address}/${entry.prefixLength}`);
  const routed = host.routes({ index: hostEnd.index }).map((route) => route.dst);
  for (const { address, gateway } of addresses) {
    if (!present.includes(hostPrefix(gateway))) {
      throw new CniError(ErrorCode.CheckFailed, `gateway address ${hostPrefix(gateway)} is missing from the host end ${hostEnd.name}`);
    }
    if (!routed.includes(hostPrefix(address.address))) {
      throw new CniError(ErrorCode.CheckFailed, `host route to ${hostPrefix(address.address)} via ${hostEnd.name} is missing`);
    }
  }
}

/**
 * DEL with the container side gone while its namespace lives on (held by a process after the
 * runtime's bind mount went): the host end prevResult names, if it still routes one of the
 * container's addresses, goes, and with it the pair, its gateway addresses and its routes.
 */
export function deleteOrphanedHostEnd(host: Rtnetlink, prevResult: Result | undefined): void {
  if (!prevResult?.ips?.length) return;
  let containerRoutes: string[];
  try {
    containerRoutes = peerAddresses(prevResult.ips).map(({ address }) => hostPrefix(address.address));
  } catch {
    return; // a prevResult ptp could not have written: nothing of ours to find by it
  }
  for (const entry of prevResult.interfaces ?? []) {
    if (entry.sandbox) continue;
    deleteOrphanedHostVeth(host, entry.name, (link) => host.routes({ index: link.index }).some((route) => containerRoutes.includes(route.dst)));
  }
}
