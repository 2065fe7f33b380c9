import type { Link, Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, invalidConfig, invalidEnvironment } from "../../lib/skel/index.ts";
import type { Interface } from "../../lib/types/index.ts";

/**
 * The device bandwidth shapes, found as the reference finds it: the host end of the veth pair
 * whose container end is CNI_IFNAME, which prevResult must list as a host interface. Other
 * interfaces prevResult lists (a bridge, a second container interface, other veths) play no part.
 */
export function findHostVeth(
  host: Rtnetlink,
  container: Rtnetlink,
  ifname: string,
  netnsPath: string,
  interfaces: readonly Interface[],
): Link {
  if (interfaces.length === 0) {
    throw invalidConfig("prevResult.interfaces", interfaces, "lists no interfaces: bandwidth needs the host-side veth");
  }
  const peer = vethPeerOf(host, container, ifname, netnsPath);
  if (!interfaces.some((entry) => !entry.sandbox && entry.name === peer.name)) {
    throw invalidConfig(
      "prevResult.interfaces",
      interfaces.map((entry) => entry.name),
      `lists no host interface ${peer.name}, the veth peer of ${ifname}`,
    );
  }
  return peer;
}

/** The host end of the container interface's veth pair. */
export function vethPeerOf(host: Rtnetlink, container: Rtnetlink, ifname: string, netnsPath: string): Link {
  const inside = container.linkByName(ifname);
  if (!inside) throw invalidEnvironment("CNI_IFNAME", `interface ${ifname} does not exist in ${netnsPath}`);
  if (inside.kind !== "veth" || inside.parentIndex === undefined) {
    throw new CniError(
      ErrorCode.InvalidConfig,
      `invalid config: ${ifname} in ${netnsPath} is ${inside.kind ? `a ${inside.kind}` : "a plain device"}, not a veth: ` +
        "bandwidth shapes the host end of a veth pair (chain it after bridge or ptp)",
    );
  }
  // IFLA_LINK of a veth is its peer's index in the peer's namespace; make sure the link found
  // under that index here is that peer, and not an unrelated host device with the same index.
  const outside = host.linkByIndex(inside.parentIndex);
  if (!outside || outside.kind !== "veth" || outside.parentIndex !== inside.index) {
    throw new CniError(
      ErrorCode.InvalidConfig,
      `invalid config: the veth peer of ${ifname} (ifindex ${inside.parentIndex}) is not in the host namespace`,
    );
  }
  return outside;
}
