import { checkInterfaceAddresses, checkParent, checkRoutes, lookupMaster, type Attachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import type { MacvlanConfig } from "./config.ts";

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}

/**
 * CHECK as the spec asks: the master is there, the container interface is still a macvlan on
 * it in the configured mode with the result's MAC, and has its addresses and routes.
 */
export function checkMacvlan(attachment: Attachment, request: AttachmentRequest<MacvlanConfig>, prevResult: Result): void {
  const { config, ifname, netns } = request;
  const entry = prevResult.interfaces?.find((intf) => intf.name === ifname && intf.sandbox === netns);
  if (!entry) throw checkFailed(`prevResult lists no interface ${ifname} in sandbox ${netns}`);

  const master = lookupMaster(attachment, config);
  if (!master.link) throw checkFailed(`master ${master.name ?? "(the default route's interface)"} not found in ${master.where} namespace`);

  const link = attachment.container.linkByName(ifname);
  if (!link) throw checkFailed(`interface ${ifname} not found in ${netns}`);
  if (link.kind !== "macvlan" || !link.macvlan) throw checkFailed(`interface ${ifname} in ${netns} is a ${link.kind ?? "plain device"}, not a macvlan`);
  if (link.macvlan.mode !== config.mode) throw checkFailed(`macvlan ${ifname} is in mode ${link.macvlan.mode}, the configuration says ${config.mode}`);
  if (entry.mac && link.mac?.toLowerCase() !== entry.mac.toLowerCase()) throw checkFailed(`${ifname} has MAC ${link.mac}, prevResult says ${entry.mac}`);
  checkParent(link, master.link);

  checkInterfaceAddresses(attachment.container, ifname, prevResult);
  checkRoutes(attachment.container, prevResult.routes ?? []);
}
