import { checkInterfaceAddresses, checkLinkMac, checkRoutes, type Attachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { hostPrefix, type PeerAddress } from "./addresses.ts";
import { checkHostEnd } from "./host.ts";

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}

/**
 * CHECK as the spec asks: the container's veth and its host peer are there as the previous
 * result describes them, the container has its addresses, its routes and the point-to-point
 * routes to and via the gateway, and the host end still answers for the gateway and routes the
 * container's addresses.
 */
export function checkAttachment(
  { host, container }: Attachment,
  netns: string,
  ifname: string,
  prevResult: Result,
  addresses: readonly PeerAddress[],
): void {
  const interfaces = prevResult.interfaces ?? [];
  const containerEntry = interfaces.find((intf) => intf.name === ifname && intf.sandbox === netns);
  if (!containerEntry) throw checkFailed(`prevResult lists no interface ${ifname} in sandbox ${netns}`);

  const containerEnd = container.linkByName(ifname);
  if (!containerEnd) throw checkFailed(`interface ${ifname} not found in ${netns}`);
  if (containerEnd.kind !== "veth") throw checkFailed(`interface ${ifname} in ${netns} is not a veth`);
  checkLinkMac(containerEnd, containerEntry.mac);

  const hostEnd = interfaces
    .filter((intf) => !intf.sandbox)
    .map((intf) => ({ entry: intf, link: host.linkByName(intf.name) }))
    .find(({ link }) => link?.kind === "veth" && link.parentIndex === containerEnd.index && containerEnd.parentIndex === link.index);
  if (!hostEnd?.link) throw checkFailed(`the host end of ${ifname}'s veth pair is gone`);
  checkLinkMac(hostEnd.link, hostEnd.entry.mac);
  checkHostEnd(host, hostEnd.link, addresses);

  checkInterfaceAddresses(container, ifname, prevResult);
  checkRoutes(container, [
    ...addresses.flatMap(({ address, gateway }) => [
      { dst: hostPrefix(gateway) },
      { dst: address.withoutHostBits().toString(), gw: gateway.toString() },
    ]),
    ...(prevResult.routes ?? []),
  ]);
}
