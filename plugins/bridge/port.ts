import { createVethPair, type Attachment, type VethPair } from "../../lib/link/index.ts";
import { NetlinkError, type Link, type Rtnetlink } from "../../lib/netlink/index.ts";
import { trySysctl } from "../../lib/netns/index.ts";
import type { Rollback } from "../../lib/skel/index.ts";
import { Errno } from "../../lib/sys/index.ts";
import { vlanUnsupported, type BridgeConfig } from "./config.ts";

/**
 * Creates the veth pair with its container end inside the container namespace, then plugs the
 * host end into the bridge as the configuration says (up, hairpin, isolation, VLANs).
 */
export function createPort(attachment: Attachment, bridge: Link, ifname: string, config: BridgeConfig, rollback: Rollback): VethPair {
  const { host } = attachment;
  const pair = createVethPair(attachment, { containerIfname: ifname, mtu: config.mtu, containerMac: config.mac }, rollback);
  trySysctl(`net/ipv6/conf/${pair.host.name}/accept_ra`, "0");
  host.setLink(pair.host.index, { up: true, master: bridge.index });
  host.setBridgePort(pair.host.index, { hairpin: config.hairpinMode, isolated: config.portIsolation });
  configurePortVlans(host, pair.host, config);
  return { host: host.linkByIndex(pair.host.index) ?? pair.host, container: pair.container };
}

/** Access VLAN, trunk VLANs and the default VLAN of the port, as the reference sets them. */
function configurePortVlans(host: Rtnetlink, port: Link, config: BridgeConfig): void {
  const trunk = config.trunkVlans;
  if (config.vlan === 0 && trunk.length === 0) return;
  try {
    if (!config.preserveDefaultVlan) {
      for (const vlan of host.bridgeVlans(port.index)) host.deleteBridgeVlan(port.index, { vid: vlan.vid });
    }
    if (config.vlan !== 0) host.addBridgeVlan(port.index, { vid: config.vlan, pvid: true, untagged: true });
    for (const vid of trunk) host.addBridgeVlan(port.index, { vid });
    // A trunk without an access VLAN carries VLAN 1 untagged, as before trunks existed.
    if (config.vlan === 0) host.addBridgeVlan(port.index, { vid: 1, pvid: true, untagged: true });
  } catch (error) {
    if (error instanceof NetlinkError && error.errno === Errno.EOPNOTSUPP) throw vlanUnsupported(config);
    throw error;
  }
}
