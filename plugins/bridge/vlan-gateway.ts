import type { Link, Rtnetlink } from "../../lib/netlink/index.ts";
import { NetNS } from "../../lib/netns/index.ts";
import { CniError, ErrorCode, type Rollback } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import type { BridgeConfig } from "./config.ts";
import { createPort } from "./port.ts";

/**
 * With `vlan` and isGateway, the gateway address lives on "<bridge>.<vlan>": one end of a veth
 * pair in the host namespace whose other end is an access port of that VLAN on the bridge.
 * Made once per bridge and VLAN and shared by its containers; listed in the result.
 */
export function ensureVlanGateway(host: Rtnetlink, bridge: Link, config: BridgeConfig, result: Result, rollback: Rollback): Link {
  const name = `${bridge.name}.${config.vlan}`;
  let gateway = host.linkByName(name);
  if (!gateway) {
    const hostNamespace = NetNS.current();
    try {
      const portConfig = { ...config, hairpinMode: false, portIsolation: false, mac: undefined, trunkVlans: [] };
      // Both ends stay on the host: the host namespace plays the container's part.
      gateway = createPort({ host, netns: hostNamespace, container: host }, bridge, name, portConfig, rollback).container;
    } finally {
      hostNamespace.close();
    }
    host.setLink(gateway.index, { up: true });
    gateway = host.linkByIndex(gateway.index);
    if (!gateway) throw new CniError(ErrorCode.KernelOperationFailed, `VLAN gateway ${name} vanished right after it was created`);
  }
  if (!result.interfaces?.some((intf) => intf.name === name && !intf.sandbox)) {
    result.interfaces?.push({ name, mac: gateway.mac });
  }
  return gateway;
}
