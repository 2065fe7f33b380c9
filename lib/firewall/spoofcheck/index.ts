import { commandExecutor, type ToolExecutor } from "../exec.ts";
import { inContext } from "../firewall.ts";
import { nftablesSpoofCheck } from "./nftables.ts";
import type { MacSpoofCheckAttachment, MacSpoofCheckRequest } from "./types.ts";

export interface SpoofCheckOptions {
  /** Runs nft; the host's by default. */
  executor?: ToolExecutor;
}

/** Drops frames from the container's veth whose source MAC is not the container's. */
export function setupMacSpoofCheck(request: MacSpoofCheckRequest, options: SpoofCheckOptions = {}): void {
  inContext(`setting up the MAC spoof check ${forWhom(request)}`, () => spoofCheck(options).setup(request));
}

/** Removes the attachment's spoof check; succeeds when there is none. */
export function teardownMacSpoofCheck(attachment: MacSpoofCheckAttachment, options: SpoofCheckOptions = {}): void {
  inContext(`removing the MAC spoof check ${forWhom(attachment)}`, () => spoofCheck(options).teardown(attachment));
}

/** Code 104 naming what is missing when setupMacSpoofCheck's rules are not all there. */
export function checkMacSpoofCheck(request: MacSpoofCheckRequest, options: SpoofCheckOptions = {}): void {
  inContext(`checking the MAC spoof check ${forWhom(request)}`, () => spoofCheck(options).check(request));
}

function spoofCheck(options: SpoofCheckOptions) {
  return nftablesSpoofCheck(options.executor ?? commandExecutor());
}

function forWhom(attachment: MacSpoofCheckAttachment): string {
  return `for container ${attachment.containerId} (${attachment.ifname})`;
}
