import { NetlinkError, isExists, type Link, type Rtnetlink } from "../../lib/netlink/index.ts";
import type { NetNS } from "../../lib/netns/index.ts";
import { Errno } from "../../lib/sys/errno.ts";
import { trySysctl } from "../../lib/netns/sysctl.ts";
import { CniError, ErrorCode, type Rollback } from "../../lib/skel/index.ts";
import { vlanUnsupported, type BridgeConfig } from "./config.ts";

export interface VethPair {
  host: Link;
  container: Link;
}

const NAME_ATTEMPTS = 10;

/**
 * Creates the veth pair with its container end directly inside the container namespace (no
 * create-then-move), then plugs the host end into the bridge as the configuration says.
 */
export function createPort(
  host: Rtnetlink,
  container: Rtnetlink,
  netns: NetNS,
  bridge: Link,
  ifname: string,
  config: BridgeConfig,
  rollback: Rollback,
): VethPair {
  const hostName = createVeth(host, container, netns, ifname, config);
  const hostEnd = host.linkByName(hostName);
  const containerEnd = container.linkByName(ifname);
  if (!hostEnd || !containerEnd) {
    throw new CniError(ErrorCode.KernelOperationFailed, `veth pair ${hostName} / ${ifname} vanished right after it was created`);
  }
  // Deleting one end deletes the pair.
  rollback.add(`veth ${hostName}`, () => host.deleteLink(hostEnd.index));

  trySysctl(`net/ipv6/conf/${hostName}/accept_ra`, "0");
  host.setLink(hostEnd.index, { up: true, master: bridge.index });
  host.setBridgePort(hostEnd.index, { hairpin: config.hairpinMode, isolated: config.portIsolation });
  configurePortVlans(host, hostEnd, config);
  return { host: host.linkByIndex(hostEnd.index) ?? hostEnd, container: containerEnd };
}

/** Creates the pair under a random host-side name, retrying when the name is taken. */
function createVeth(host: Rtnetlink, container: Rtnetlink, netns: NetNS, ifname: string, config: BridgeConfig): string {
  if (container.linkByName(ifname)) {
    throw new CniError(ErrorCode.InvalidEnvironment, `CNI_IFNAME: interface ${ifname} already exists in the container`);
  }
  const mtu = config.mtu || undefined;
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const hostName = randomVethName();
    try {
      host.createLink({ kind: "veth", name: hostName, mtu, peer: { name: ifname, mtu, mac: config.mac, netnsFd: netns.fd } });
      return hostName;
    } catch (error) {
      const nameTaken = error instanceof NetlinkError && isExists(error) && host.linkByName(hostName) !== undefined;
      if (!nameTaken) throw error;
    }
  }
  throw new CniError(ErrorCode.TryAgainLater, `could not find a free veth name after ${NAME_ATTEMPTS} attempts`);
}

/**
 * "veth" and 8 random hex digits, as the reference names host ends. The global Web Crypto
 * random source: node:crypto's randomBytes would cost the executable ~2 ms to load.
 */
function randomVethName(): string {
  return `veth${Buffer.from(crypto.getRandomValues(new Uint8Array(4))).toString("hex")}`;
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
