import { Cidr } from "../../lib/ip/index.ts";
import { deleteOrphanedHostVeth } from "../../lib/link/index.ts";
import { NetlinkError, isExists, isNotSupported, type Link, type Rtnetlink } from "../../lib/netlink/index.ts";
import { trySysctl } from "../../lib/netns/index.ts";
import { CniError, ErrorCode, type Rollback } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { vlanUnsupported, type BridgeConfig } from "./config.ts";

/**
 * Finds or creates the bridge, up, with the configured MTU and promiscuity. A bridge this ADD
 * created is deleted again on rollback, unless another container has joined it meanwhile.
 */
export function ensureBridge(host: Rtnetlink, config: BridgeConfig, rollback: Rollback): Link {
  const vlanFiltering = config.vlan !== 0 || config.vlanTrunk !== undefined;
  let created = false;
  try {
    host.createLink({ kind: "bridge", name: config.bridge, mtu: config.mtu || undefined, vlanFiltering: vlanFiltering || undefined });
    created = true;
  } catch (error) {
    if (error instanceof NetlinkError && isNotSupported(error) && vlanFiltering) throw vlanUnsupported(config);
    if (!(error instanceof NetlinkError && isExists(error))) throw error;
  }
  const bridge = host.linkByName(config.bridge);
  if (!bridge) throw new CniError(ErrorCode.KernelOperationFailed, `bridge ${config.bridge} vanished right after it was created`);
  if (created) {
    rollback.add(`bridge ${config.bridge}`, () => {
      const stillEmpty = !host.links().some((link) => link.master === bridge.index);
      if (stillEmpty) host.deleteLink(bridge.index);
    });
  }
  if (bridge.kind !== "bridge") {
    throw new CniError(ErrorCode.InvalidConfig, `invalid config: bridge="${config.bridge}": that interface exists and is a ${bridge.kind ?? "plain device"}, not a bridge`);
  }
  if (vlanFiltering && !bridge.bridge?.vlanFiltering) throw vlanUnsupported(config);
  if (config.promiscMode && !bridge.promisc) host.setLink(bridge.index, { promisc: true });
  // The plugin owns this bridge's routes: router advertisements must not add any.
  trySysctl(`net/ipv6/conf/${config.bridge}/accept_ra`, "0");
  if (!bridge.up) host.setLink(bridge.index, { up: true });
  return host.linkByIndex(bridge.index) ?? bridge;
}

/**
 * Puts a gateway address on the bridge (or its VLAN gateway link). IPv4 allows one address per
 * bridge and IPv6 one per overlapping subnet: a different one is replaced with forceAddress,
 * and an error otherwise.
 */
export function ensureGatewayAddress(host: Rtnetlink, link: Link, gateway: Cidr, forceAddress: boolean): void {
  const wanted = `${gateway.address}/${gateway.prefixLength}`;
  for (const existing of host.addresses({ index: link.index, family: gateway.family })) {
    if (existing.scope !== 0) continue; // link-local addresses are the kernel's own
    const present = Cidr.parse(`${existing.address}/${existing.prefixLength}`);
    if (present.address.equals(gateway.address) && present.prefixLength === gateway.prefixLength) return;
    const conflicts = gateway.family === 4 || present.contains(gateway.address) || gateway.contains(present.address);
    if (!conflicts) continue;
    if (!forceAddress) {
      throw new CniError(
        ErrorCode.InvalidConfig,
        `${link.name} already has address ${present} where gateway ${wanted} belongs (set forceAddress to replace it)`,
      );
    }
    host.deleteAddress({ index: link.index, address: existing.address, prefixLength: existing.prefixLength });
  }
  try {
    host.addAddress({ index: link.index, address: gateway.address.toString(), prefixLength: gateway.prefixLength });
  } catch (error) {
    if (!(error instanceof NetlinkError && isExists(error))) throw error;
  }
  // Pin the bridge's MAC: otherwise it follows the lowest port MAC and changes as ports churn.
  if (link.mac) host.setLink(link.index, { mac: link.mac });
}

/**
 * DEL with the container side gone: the host end of its veth pair, as prevResult lists it,
 * when it is still a port of this bridge (its namespace may live on, held by some process).
 */
export function deleteOrphanedPort(host: Rtnetlink, bridgeName: string, prevResult: Result | undefined): void {
  const bridge = host.linkByName(bridgeName);
  if (!bridge) return;
  for (const entry of prevResult?.interfaces ?? []) {
    if (entry.sandbox || entry.name === bridgeName) continue;
    deleteOrphanedHostVeth(host, entry.name, (link) => link.master === bridge.index);
  }
}
