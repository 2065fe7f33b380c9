import {
  checkMacSpoofCheck,
  setupMacSpoofCheck,
  teardownMacSpoofCheck,
  type MacSpoofCheckRequest,
} from "../../lib/firewall/index.ts";
import { CniError, ErrorCode, type AttachmentRequest, type Rollback } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import type { VethPair } from "../../lib/link/index.ts";

/**
 * macspoofchk: frames the container sends with a source MAC other than its interface's are
 * dropped where they enter the bridge (nftables, as the reference, whatever ipMasqBackend says).
 * Set up as soon as the veth pair exists, before the container has an address to talk with.
 */
export function setupSpoofCheck(request: AttachmentRequest<unknown>, port: VethPair, rollback: Rollback): void {
  if (!port.container.mac) {
    throw new CniError(ErrorCode.KernelOperationFailed, `macspoofchk: ${request.ifname} in the container has no MAC address`);
  }
  const spoofCheck: MacSpoofCheckRequest = {
    hostInterface: port.host.name,
    containerMac: port.container.mac,
    containerId: request.containerId,
    ifname: request.ifname,
  };
  setupMacSpoofCheck(spoofCheck);
  rollback.add("MAC spoof check", () => teardownMacSpoofCheck(spoofCheck));
}

/** Removes the attachment's check; needs neither the namespace nor prevResult. */
export function teardownSpoofCheck(request: AttachmentRequest<unknown>): void {
  teardownMacSpoofCheck({ containerId: request.containerId, ifname: request.ifname });
}

/**
 * Checks the rules against prevResult's host veth (the first host interface other than the
 * bridge) and container interface MAC.
 */
export function checkSpoofCheck(request: AttachmentRequest<unknown>, bridge: string, prevResult: Result): void {
  const interfaces = prevResult.interfaces ?? [];
  const hostEnd = interfaces.find((intf) => !intf.sandbox && intf.name !== bridge);
  const containerEnd = interfaces.find((intf) => intf.name === request.ifname && intf.sandbox === request.netns);
  if (!hostEnd || !containerEnd?.mac) {
    throw new CniError(ErrorCode.CheckFailed, "macspoofchk: prevResult lists no host veth, or no MAC for the container interface");
  }
  checkMacSpoofCheck({ hostInterface: hostEnd.name, containerMac: containerEnd.mac, containerId: request.containerId, ifname: request.ifname });
}
