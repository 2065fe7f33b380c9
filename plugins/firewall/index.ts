/**
 * firewall: a chained plugin that lets the container's traffic through the host's firewall (the
 * FORWARD chain's CNI-FORWARD rules, or the container's addresses as sources of a firewalld zone)
 * and can keep other bridges from reaching the container's bridge. It creates no interface and
 * passes the previous result on unchanged.
 */
import {
  checkForwardAccess,
  ensureForwardAccessUsable,
  setupForwardAccess,
  teardownForwardAccess,
  type ForwardAccessOptions,
} from "../../lib/firewall/forward/index.ts";
import type { ForwardAccessRequest } from "../../lib/firewall/forward/types.ts";
import { definePlugin, invalidConfig } from "../../lib/skel/index.ts";
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
    setupForwardAccess(accessRequest(settings, prevResult), accessOptions(settings));
    return prevResult;
  },

  // Without prevResult the addresses are unknown and nothing is removed, as in the reference.
  // The shared chains and a bridge's isolation stay: other containers rely on them.
  async del(request) {
    const settings = firewallSettings(request.config);
    teardownForwardAccess(containerAddresses(request.prevResult), accessOptions(settings));
  },

  async check(request) {
    const settings = firewallSettings(request.config);
    const prevResult = requirePrevResult(request.prevResult, "CHECK");
    checkForwardAccess(accessRequest(settings, prevResult), accessOptions(settings));
  },

  async status(request) {
    const settings = firewallSettings(request.config);
    ensureForwardAccessUsable(accessOptions(settings), isolationPolicy(settings) !== undefined);
  },

  // No gc: the rules name addresses, never containers (iptables comments and firewalld sources
  // alike, byte for byte the reference's), so nothing tells which attachment a rule was for.
  // See README.md, "Garbage collection".
});

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
function accessRequest(settings: FirewallSettings, prevResult: Result): ForwardAccessRequest {
  const addresses = containerAddresses(prevResult);
  const policy = isolationPolicy(settings);
  if (!policy) return { addresses };
  const bridge = prevResult.interfaces?.[0]?.name;
  if (!bridge) {
    throw invalidConfig(
      "prevResult.interfaces",
      prevResult.interfaces,
      `ingressPolicy "${policy}" needs the bridge as the first interface of prevResult: chain firewall after the bridge plugin`,
    );
  }
  if (!/^[^\s/:"]{1,15}$/.test(bridge)) throw invalidConfig("prevResult.interfaces[0].name", bridge, "is not an interface name");
  return { addresses, isolation: { bridge, policy } };
}
