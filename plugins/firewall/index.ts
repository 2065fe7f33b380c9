/**
 * firewall: a chained plugin that lets the container's traffic through the host's firewall (the
 * FORWARD chain's CNI-FORWARD rules, or the container's addresses as sources of a firewalld zone)
 * and can keep other bridges from reaching the container's bridge. It creates no interface and
 * passes the previous result on unchanged.
 */
import {
  checkForwardAccess,
  ensureForwardAccessUsable,
  gcForwardAccess,
  setupForwardAccess,
  teardownForwardAccess,
  type ForwardAccessOptions,
  type ForwardAccessRequest,
  type ForwardAttachment,
} from "../../lib/firewall/index.ts";
import { definePlugin, invalidConfig, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { firewallConfigSchema, isolationPolicy, parseFirewallConfig, type FirewallConfig } from "./config.ts";

export default definePlugin<FirewallConfig>({
  name: "firewall",
  about: "CNI firewall plugin: lets containers' forwarded traffic through iptables or firewalld",
  configSchema: firewallConfigSchema,
  parseConfig: parseFirewallConfig,

  async add(request) {
    const prevResult = requirePrevResult(request, needsPrevResult("ADD"));
    setupForwardAccess(accessRequest(request, prevResult), accessOptions(request.config));
    return prevResult;
  },

  // The attachment's rules carry its tag, so they are found without prevResult too (a runtime
  // that died before caching the result); prevResult's addresses also find the reference's
  // untagged rules. The shared chains and a bridge's isolation stay: other containers rely on them.
  async del(request) {
    teardownForwardAccess(attachmentOf(request), containerAddresses(request.prevResult), accessOptions(request.config));
  },

  async check(request) {
    const prevResult = requirePrevResult(request, needsPrevResult("CHECK"));
    checkForwardAccess(accessRequest(request, prevResult), accessOptions(request.config));
  },

  async status(request) {
    ensureForwardAccessUsable(accessOptions(request.config), isolationPolicy(request.config) !== undefined);
  },

  // The tagged iptables rules of attachments not in cni.dev/valid-attachments; the reference's
  // untagged rules and firewalld's sources name no attachment and stay (README.md, "Garbage collection").
  async gc(request) {
    gcForwardAccess(request.config.name, request.validAttachments, accessOptions(request.config));
  },
});

function attachmentOf(request: AttachmentRequest<FirewallConfig>): ForwardAttachment {
  return { network: request.config.name, containerId: request.containerId, ifname: request.ifname };
}

function needsPrevResult(command: string): string {
  return `${command} needs the previous plugin's result: chain firewall after a plugin that returns one (bridge, ptp, ...)`;
}

function containerAddresses(prevResult: Result | undefined): string[] {
  return (prevResult?.ips ?? []).map((ipc) => ipc.address);
}

function accessOptions(config: FirewallConfig): ForwardAccessOptions {
  return { backend: config.backend, adminChain: config.adminChain, firewalldZone: config.firewalldZone };
}

/**
 * The container's addresses, and with an isolating ingress policy the bridge to isolate: the
 * first interface of prevResult, where bridge lists it (the reference takes the same one).
 */
function accessRequest(request: AttachmentRequest<FirewallConfig>, prevResult: Result): ForwardAccessRequest {
  const addresses = containerAddresses(prevResult);
  const attachment = attachmentOf(request);
  const policy = isolationPolicy(request.config);
  if (!policy) return { attachment, addresses };
  const bridge = prevResult.interfaces?.[0]?.name;
  if (!bridge) {
    throw invalidConfig(
      "prevResult.interfaces",
      prevResult.interfaces,
      `ingressPolicy "${policy}" needs the bridge as the first interface of prevResult: chain firewall after the bridge plugin`,
    );
  }
  if (!/^[^\s/:"]{1,15}$/.test(bridge)) throw invalidConfig("prevResult.interfaces[0].name", bridge, "is not an interface name");
  return { attachment, addresses, isolation: { bridge, policy } };
}
