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
  type ForwardAccessRequest,
} from "../../lib/firewall/index.ts";
import { definePlugin, invalidConfig, requirePrevResult } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { firewallConfigSchema, isolationPolicy, parseFirewallConfig, type FirewallConfig } from "./config.ts";

export default definePlugin<FirewallConfig>({
  name: "firewall",
  about: "CNI firewall plugin: lets containers' forwarded traffic through iptables or firewalld",
  configSchema: firewallConfigSchema,
  parseConfig: parseFirewallConfig,

  async add(request) {
    const prevResult = requirePrevResult(request, needsPrevResult("ADD"));
    setupForwardAccess(accessRequest(request.config, prevResult), accessOptions(request.config));
    return prevResult;
  },

  // Without prevResult the addresses are unknown and nothing is removed, as in the reference.
  // The shared chains and a bridge's isolation stay: other containers rely on them.
  async del(request) {
    teardownForwardAccess(containerAddresses(request.prevResult), accessOptions(request.config));
  },

  async check(request) {
    const prevResult = requirePrevResult(request, needsPrevResult("CHECK"));
    checkForwardAccess(accessRequest(request.config, prevResult), accessOptions(request.config));
  },

  async status(request) {
    ensureForwardAccessUsable(accessOptions(request.config), isolationPolicy(request.config) !== undefined);
  },

  // No gc: the rules name addresses, never containers (iptables comments and firewalld sources
  // alike, byte for byte the reference's), so nothing tells which attachment a rule was for.
  // See README.md, "Garbage collection".
});

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
function accessRequest(config: FirewallConfig, prevResult: Result): ForwardAccessRequest {
  const addresses = containerAddresses(prevResult);
  const policy = isolationPolicy(config);
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
