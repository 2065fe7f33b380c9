import type { GcAttachment } from "../../types/index.ts";
import { inContext, onEveryBackend, selectFirewall, type FirewallOptions } from "../firewall.ts";
import { MASQUERADE_TABLE } from "./iptables.ts";
import type { MasqueradeAttachment, MasqueradeRequest } from "./types.ts";

/** Masquerades the container's traffic to anything outside its subnets (multicast excepted). */
export function setupMasquerade(request: MasqueradeRequest, options: FirewallOptions = {}): void {
  const firewall = selectFirewall(options, MASQUERADE_TABLE);
  inContext(`setting up masquerading (${firewall.backend}) ${forWhom(request)}`, () => firewall.masquerade.setup(request));
}

/** Code 104 naming what is missing when setupMasquerade's rules are not all there. */
export function checkMasquerade(request: MasqueradeRequest, options: FirewallOptions = {}): void {
  const firewall = selectFirewall(options, MASQUERADE_TABLE);
  inContext(`checking masquerading (${firewall.backend}) ${forWhom(request)}`, () => firewall.masquerade.check(request));
}

/** Removes the attachment's masquerading from both backends; succeeds when there is none. */
export function teardownMasquerade(
  attachment: MasqueradeAttachment & { addresses?: readonly string[] },
  options: FirewallOptions = {},
): void {
  onEveryBackend(`removing masquerading ${forWhom(attachment)}`, options, (firewall) => firewall.masquerade.teardown(attachment));
}

/** Removes, from both backends, the network's masquerading of attachments not in `validAttachments`. */
export function gcMasquerade(network: string, validAttachments: readonly GcAttachment[], options: FirewallOptions = {}): void {
  onEveryBackend(`collecting stale masquerading on network "${network}"`, options, (firewall) =>
    firewall.masquerade.gc(network, validAttachments),
  );
}

function forWhom(attachment: MasqueradeAttachment): string {
  return `for container ${attachment.containerId} (${attachment.ifname}) on network "${attachment.network}"`;
}
