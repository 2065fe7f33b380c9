import { checkInterfaceAddresses, checkParent, checkRoutes, lookupMaster, type Attachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import type { VlanConfig } from "./config.ts";

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}

/**
 * CHECK as the spec asks: the master is there, the container interface is still a VLAN link on
 * it with the configured ID and the result's MAC, and has its addresses and routes.
 */
export function checkVlan(attachment: Attachment, request: AttachmentRequest<VlanConfig>, prevResult: Result): void {
  const { config, ifname, netns } = request;
  const entry = prevResult.interfaces?.find((intf) => intf.name === ifname && intf.sandbox === netns);
  if (!entry) throw checkFailed(`prevResult lists no interface ${ifname} in sandbox ${netns}`);

  const master = lookupMaster(attachment, config);
  if (!master.link) throw checkFailed(`master ${config.master} not found in ${master.where} namespace`);

  const link = attachment.container.linkByName(ifname);
  if (!link) throw checkFailed(`interface ${ifname} not found in ${netns}`);
  if (link.kind !== "vlan" || !link.vlan) throw checkFailed(`interface ${ifname} in ${netns} is a ${link.kind ?? "plain device"}, not a vlan link`);
  if (link.vlan.id !== config.vlanId) throw checkFailed(`vlan link ${ifname} has VLAN ID ${link.vlan.id}, the configuration says ${config.vlanId}`);
  if (entry.mac && link.mac?.toLowerCase() !== entry.mac.toLowerCase()) throw checkFailed(`${ifname} has MAC ${link.mac}, prevResult says ${entry.mac}`);
  checkParent(link, master.link);

  checkInterfaceAddresses(attachment.container, ifname, prevResult);
  checkRoutes(attachment.container, prevResult.routes ?? []);
}
