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
} from "../../lib/firewall/forward/index.ts";
import type { ForwardAccessRequest, ForwardAttachment } from "../../lib/firewall/forward/types.ts";
import { definePlugin, invalidConfig, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { firewallSettings, isolationPolicy, parseFirewallConfig, type FirewallConfigInput, type FirewallSettings, firewallConfigSchema } from "./config.ts";

export default definePlugin<FirewallConfigInput>({
  name: "firewall",
  about: "CNI firewall plugin: lets containers' forwarded traffic through iptables or firewalld",
  configSchema: firewallConfigSchema,
  parseConfig: parseFirewallConfig,

  async add(request) {
    const settings = firewallSettings(request.config);
    const prevResult = requirePrevResult(request.prevResult, "ADD");
    setupForwardAccess(accessRequest(settings, request, prevResult), accessOptions(settings));
    return prevResult;
  },

  // The attachment's rules carry its tag, so they are found without prevResult too (a runtime
  // that died before caching the result); prevResult's addresses also find the reference's
  // untagged rules. The shared chains and a bridge's isolation stay: other containers rely on them.
  async del(request) {
    const settings = firewallSettings(request.config);
    teardownForwardAccess(attachmentOf(request), containerAddresses(request.prevResult), accessOptions(settings));
  },

  async check(request) {
    const settings = firewallSettings(request.config);
    const prevResult = requirePrevResult(request.prevResult, "CHECK");
    checkForwardAccess(accessRequest(settings, request, prevResult), accessOptions(settings));
  },

  async status(request) {
    const settings = firewallSettings(request.config);
    ensureForwardAccessUsable(accessOptions(settings), isolationPolicy(settings) !== undefined);
  },

  // The tagged iptables rules of attachments not in cni.dev/valid-attachments; the reference's
  // untagged rules and firewalld's sources name no attachment and stay (README.md, "Garbage collection").
  async gc(request) {
    const settings = firewallSettings(request.config);
    gcForwardAccess(request.config.name, request.validAttachments, accessOptions(settings));
  },
});

function attachmentOf(request: AttachmentRequest<FirewallConfigInput>): ForwardAttachment {
  return { network: request.config.name, containerId: request.containerId, ifname: request.ifname };
}

function requirePrevResult(prevResult: Result | undefined, command: string): Result {
  if (!prevResult) {
    throw invalidConfig("prevResult", undefined, `${command} needs the previous plugin's result: chain firewall after a plugin that returns one (bridge, ptp, ...)`);
  }
  return prevResult;
}

function containerAddresses(prevResult: Result | undefined): string[] {
  return (prevResult?.ips ?? []).map((ipc) => ipc.address);
}

function accessOptions(settings: FirewallSettings): ForwardAccessOptions {
  return { backend: settings.backend, adminChain: settings.adminChain, firewalldZone: settings.firewalldZone };
}

/**
 * The container's addresses, and with an isolating ingress policy the bridge to isolate: the
 * first interface of prevResult, where bridge lists it (the reference takes the same one).
 */
function accessRequest(settings: FirewallSettings, request: AttachmentRequest<FirewallConfigInput>, prevResult: Result): ForwardAccessRequest {
  const addresses = containerAddresses(prevResult);
  const attachment = attachmentOf(request);
  const policy = isolationPolicy(settings);
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
