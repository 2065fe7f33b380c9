import { checkInterfaceAddresses, checkLinkMac, checkRoutes, type Attachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}

/**
 * CHECK as the spec asks: the dummy link the previous result lists is in the container, still
 * a dummy, up, with its MAC, its addresses and the result's routes.
 */
export function checkAttachment({ container }: Attachment, netns: string, ifname: string, prevResult: Result): void {
  const entry = (prevResult.interfaces ?? []).find((intf) => intf.name === ifname && intf.sandbox === netns);
  if (!entry) throw checkFailed(`prevResult lists no interface ${ifname} in sandbox ${netns}`);
  const link = container.linkByName(ifname);
  if (!link) throw checkFailed(`interface ${ifname} not found in ${netns}`);
  if (link.kind !== "dummy") throw checkFailed(`interface ${ifname} in ${netns} is a ${link.kind ?? "plain device"}, not a dummy`);
  checkLinkMac(link, entry.mac);
  if (!link.up) throw checkFailed(`interface ${ifname} in ${netns} is down`);
  checkInterfaceAddresses(container, ifname, prevResult);
  checkRoutes(container, prevResult.routes ?? []);
}
