import { Cidr, IPAddress } from "../../lib/ip/index.ts";
import { invalidConfig } from "../../lib/skel/index.ts";
import type { IPConfig } from "../../lib/types/index.ts";

/** One container address of a point-to-point link and the gateway that is its only neighbour. */
export interface PeerAddress {
  /** The container's address with its IPAM prefix ("10.1.0.5/24"). */
  address: Cidr;
  /** The gateway, put on the host end as a host address (/32 or /128). */
  gateway: IPAddress;
}

/**
 * The IPAM result's addresses, each with its gateway. ptp routes all of the container's traffic
 * through the gateway on the host end, so an address without one (a static IPAM entry, say)
 * cannot be used: code 7 naming it, before any address is configured.
 */
export function peerAddresses(ips: readonly IPConfig[]): PeerAddress[] {
  return ips.map((ipc, index) => {
    const address = Cidr.parse(ipc.address);
    if (!ipc.gateway) {
      throw invalidConfig(`ipam (result ips[${index}])`, ipc.address, "ptp needs a gateway for every address: all traffic goes through it");
    }
    const gateway = IPAddress.parse(ipc.gateway);
    if (gateway.family !== address.family) {
      throw invalidConfig(`ipam (result ips[${index}].gateway)`, ipc.gateway, `is not in the family of address ${ipc.address}`);
    }
    if (gateway.equals(address.address)) {
      throw invalidConfig(`ipam (result ips[${index}].gateway)`, ipc.gateway, "is the container's own address");
    }
    return { address, gateway };
  });
}

/** The address alone as a host prefix: "10.1.0.5/32", "fd00::5/128". */
export function hostPrefix(ip: IPAddress): string {
  return `${ip}/${ip.family === 4 ? 32 : 128}`;
}
