import { Cidr } from "../../lib/ip/index.ts";
import type { IPConfig, Result, Route } from "../../lib/types/index.ts";
import type { BridgeConfig } from "./config.ts";

/** Index of the container interface in bridge's result: [bridge, host veth, container veth]. */
export const CONTAINER_INTERFACE = 2;

export interface GatewayPlan {
  /** The IPAM result with the container's addresses tied to its interface, gateways filled in and default routes added. */
  result: Result;
  /** Gateway addresses (with the subnet's prefix length) to put on the bridge, per family. */
  gateways: { 4: Cidr[]; 6: Cidr[] };
}

/**
 * Works out the gateway side of an IPAM result as the reference does: with isGateway, an
 * address without a gateway gets its subnet's first address; with isDefaultGateway, each
 * family gets a default route via its first gateway unless IPAM already gave one.
 */
export function planGateways(ipamResult: Result, config: BridgeConfig): GatewayPlan {
  const gateways: GatewayPlan["gateways"] = { 4: [], 6: [] };
  const routes: Route[] = [...(ipamResult.routes ?? [])];
  const hasDefaultRoute = { 4: false, 6: false };
  const ips: IPConfig[] = (ipamResult.ips ?? []).map((ipc) => {
    const address = Cidr.parse(ipc.address);
    const family = address.family;
    const gateway = ipc.gateway ?? (config.isGateway ? address.network.next().toString() : undefined);
    if (config.isDefaultGateway && !hasDefaultRoute[family]) {
      const defaultDst = family === 4 ? "0.0.0.0/0" : "::/0";
      const ipamGaveOne = routes.some((route) => route.gw !== undefined && Cidr.parse(route.dst).equals(Cidr.parse(defaultDst)));
      if (!ipamGaveOne) routes.push(gateway ? { dst: defaultDst, gw: gateway } : { dst: defaultDst });
      hasDefaultRoute[family] = true;
    }
    if (config.isGateway && gateway) gateways[family].push(Cidr.parse(`${gateway}/${address.prefixLength}`));
    return gateway ? { ...ipc, interface: CONTAINER_INTERFACE, gateway } : { ...ipc, interface: CONTAINER_INTERFACE };
  });
  return { result: { ...ipamResult, ips, routes }, gateways };
}
