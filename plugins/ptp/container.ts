import { applyIpamResult, type Attachment } from "../../lib/link/index.ts";
import { RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, isNotFound, type Link, type Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { hostPrefix, type PeerAddress } from "./addresses.ts";

/**
 * Addresses the container end and makes it point-to-point. A veth cannot be IFF_POINTTOPOINT,
 * so, as the reference does, the interface keeps its IPAM prefix ("10.1.0.5/24") but loses the
 * prefix route the kernel made for it; instead the gateway alone is on the link and the rest of
 * the prefix is reached via the gateway. Every neighbour the container resolves is the gateway.
 */
export async function configureContainerEnd(attachment: Attachment, ifname: string, result: Result, addresses: readonly PeerAddress[]): Promise<void> {
  await applyIpamResult(attachment, ifname, result);
  const { container } = attachment;
  const link = container.linkByName(ifname);
  if (!link) throw new CniError(ErrorCode.KernelOperationFailed, `interface ${ifname} vanished from ${attachment.netns.path}`);
  const gatewaysRouted = new Set<string>();
  for (const { address, gateway } of addresses) {
    const subnet = address.withoutHostBits().toString();
    deletePrefixRoute(container, link, subnet);
    const src = address.address.toString();
    if (!gatewaysRouted.has(gateway.toString())) {
      container.addRoute({ dst: hostPrefix(gateway), index: link.index, scope: RT_SCOPE_LINK, src });
      gatewaysRouted.add(gateway.toString());
    }
    container.addRoute({ dst: subnet, gateway: gateway.toString(), index: link.index, scope: RT_SCOPE_UNIVERSE, src });
  }
}

/** The kernel's route for the address's prefix; a /32 or /128 address has none. */
function deletePrefixRoute(nl: Rtnetlink, link: Link, subnet: string): void {
  try {
    nl.deleteRoute({ dst: subnet, index: link.index });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
