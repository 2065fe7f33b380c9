import { checkInterfaceAddresses, checkRoutes, type Attachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}

/**
 * CHECK: the device is still in the container under CNI_IFNAME, as prevResult describes it (its
 * MAC), still names its host interface in its alias, and has its addresses and routes.
 */
export function checkMovedDevice({ container }: Attachment, netns: string, ifname: string, prevResult: Result): void {
  const entry = (prevResult.interfaces ?? []).find((intf) => intf.name === ifname && intf.sandbox === netns);
  if (!entry) throw checkFailed(`prevResult lists no interface ${ifname} in sandbox ${netns}`);
  const link = container.linkByName(ifname);
  if (!link) throw checkFailed(`interface ${ifname} is no longer in ${netns}: the device was moved away or removed`);
  if (entry.mac && link.mac?.toLowerCase() !== entry.mac.toLowerCase()) {
    throw checkFailed(`${ifname} has MAC ${link.mac}, prevResult says ${entry.mac}`);
  }
  if (!link.alias) throw checkFailed(`${ifname} in ${netns} no longer names its host interface (its alias is gone)`);
  checkInterfaceAddresses(container, ifname, prevResult);
  checkRoutes(container, prevResult.routes ?? []);
}
