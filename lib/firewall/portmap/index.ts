import type { GcAttachment } from "../../types/index.ts";
import { inContext, onEveryBackend, selectFirewall, type FirewallOptions } from "../firewall.ts";
import { PORTMAP_TABLE } from "./iptables.ts";
import type { PortMapAttachment, PortMapRequest } from "./types.ts";

/** Forwards the mapped host ports to the container's addresses, one transaction per family. */
export function setupPortMappings(request: PortMapRequest, options: FirewallOptions = {}): void {
  const firewall = selectFirewall(options, PORTMAP_TABLE);
  inContext(`setting up port mappings (${firewall.backend}) ${forWhom(request)}`, () => firewall.portmap.setup(request));
}

/** Code 104 naming what is missing when setupPortMappings' rules are not all there. */
export function checkPortMappings(request: PortMapRequest, options: FirewallOptions = {}): void {
  const firewall = selectFirewall(options, PORTMAP_TABLE);
  inContext(`checking port mappings (${firewall.backend}) ${forWhom(request)}`, () => firewall.portmap.check(request));
}

/** Removes the attachment's port mappings from both backends and families; succeeds when there are none. */
export function teardownPortMappings(attachment: PortMapAttachment, options: FirewallOptions = {}): void {
  onEveryBackend(`removing port mappings ${forWhom(attachment)}`, options, (firewall) => firewall.portmap.teardown(attachment));
}

/** Removes, where the backend's layout allows it, the network's port mappings of attachments not in `validAttachments`. */
export function gcPortMappings(network: string, validAttachments: readonly GcAttachment[], options: FirewallOptions = {}): void {
  onEveryBackend(`collecting stale port mappings on network "${network}"`, options, (firewall) =>
    firewall.portmap.gc(network, validAttachments),
  );
}

function forWhom(attachment: PortMapAttachment): string {
  return `for container ${attachment.containerId} on network "${attachment.network}"`;
}
