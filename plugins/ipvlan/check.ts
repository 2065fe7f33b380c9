import { checkInterfaceAddresses, checkParent, checkRoutes, lookupMaster, type Attachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import type { IpvlanConfig } from "./config.ts";

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}

/**
 * CHECK as the spec asks: the container interface is still an ipvlan in the configured mode
 * with the result's MAC, on `master` when one is configured (chained without one, prevResult no
 * longer names the master), and has its addresses and routes.
 */
export function checkIpvlan(attachment: Attachment, request: AttachmentRequest<IpvlanConfig>, prevResult: Result): void {
  const { config, ifname, netns } = request;
  const entry = prevResult.interfaces?.find((intf) => intf.name === ifname && intf.sandbox === netns);
  if (!entry) throw checkFailed(`prevResult lists no interface ${ifname} in sandbox ${netns}`);

  const link = attachment.container.linkByName(ifname);
  if (!link) throw checkFailed(`interface ${ifname} not found in ${netns}`);
  if (link.kind !== "ipvlan" || !link.ipvlan) throw checkFailed(`interface ${ifname} in ${netns} is a ${link.kind ?? "plain device"}, not an ipvlan`);
  if (link.ipvlan.mode !== config.mode) throw checkFailed(`ipvlan ${ifname} is in mode ${link.ipvlan.mode}, the configuration says ${config.mode}`);
  if (entry.mac && link.mac?.toLowerCase() !== entry.mac.toLowerCase()) throw checkFailed(`${ifname} has MAC ${link.mac}, prevResult says ${entry.mac}`);
  if (config.master !== undefined) {
    const master = lookupMaster(attachment, config);
    if (!master.link) throw checkFailed(`master ${config.master} not found in ${master.where} namespace`);
    checkParent(link, master.link);
  }

  checkInterfaceAddresses(attachment.container, ifname, prevResult);
  checkRoutes(attachment.container, prevResult.routes ?? []);
}
