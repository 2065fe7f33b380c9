import { checkInterfaceAddresses, checkLinkMac, checkRoutes, type Attachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import type { BridgeConfig } from "./config.ts";

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}

/**
 * CHECK as the spec asks: the bridge, the container's veth and its host peer plugged into that
 * bridge are all there and as the previous result describes them, and the container still has
 * its addresses and routes.
 */
export function checkAttachment({ host, container }: Attachment, config: BridgeConfig, netns: string, ifname: string, prevResult: Result): void {
  const interfaces = prevResult.interfaces ?? [];
  const bridgeEntry = interfaces.find((intf) => intf.name === config.bridge && !intf.sandbox);
  const containerEntry = interfaces.find((intf) => intf.name === ifname && intf.sandbox === netns);
  if (!bridgeEntry) throw checkFailed(`prevResult lists no bridge interface ${config.bridge}`);
  if (!containerEntry) throw checkFailed(`prevResult lists no interface ${ifname} in sandbox ${netns}`);

  const bridge = host.linkByName(config.bridge);
  if (!bridge) throw checkFailed(`bridge ${config.bridge} not found`);
  if (bridge.kind !== "bridge") throw checkFailed(`${config.bridge} is a ${bridge.kind ?? "plain device"}, not a bridge`);
  checkLinkMac(bridge, bridgeEntry.mac);
  if (bridge.promisc !== config.promiscMode) {
    throw checkFailed(`bridge ${config.bridge} promiscuous mode is ${bridge.promisc ? "on" : "off"}, config says ${config.promiscMode ? "on" : "off"}`);
  }

  const containerEnd = container.linkByName(ifname);
  if (!containerEnd) throw checkFailed(`interface ${ifname} not found in ${netns}`);
  if (containerEnd.kind !== "veth") throw checkFailed(`interface ${ifname} in ${netns} is not a veth`);
  checkLinkMac(containerEnd, containerEntry.mac);

  const hostEnd = interfaces
    .filter((intf) => intf !== bridgeEntry && intf !== containerEntry && !intf.sandbox)
    .map((intf) => ({ entry: intf, link: host.linkByName(intf.name) }))
    .find(({ link }) => link?.kind === "veth" && link.parentIndex === containerEnd.index && containerEnd.parentIndex === link.index);
  if (!hostEnd?.link) throw checkFailed(`the host end of ${ifname}'s veth pair is gone`);
  if (hostEnd.link.master !== bridge.index) throw checkFailed(`${hostEnd.link.name} is no longer a port of bridge ${config.bridge}`);
  checkLinkMac(hostEnd.link, hostEnd.entry.mac);

  checkInterfaceAddresses(container, ifname, prevResult);
  checkRoutes(container, prevResult.routes ?? []);
}
