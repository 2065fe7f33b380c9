/**
 * portmap: forwards ports of the host to the container, as a chained plugin after the one that
 * gave the container its addresses. It DNATs traffic to the host's own addresses (and, with
 * snat, masquerades hairpin and localhost traffic so the answers come back the same way),
 * with iptables or nftables rules in the reference's layout, and passes prevResult through.
 */
import {
  checkPortMappings,
  chooseBackend,
  clearStaleUdpEntries,
  commandExecutor,
  gcPortMappings,
  setupPortMappings,
  teardownPortMappings,
  toolProbes,
  type PortMapping,
  type PortMapRequest,
} from "../../lib/firewall/index.ts";
import { Cidr, type IPFamily } from "../../lib/ip/index.ts";
import { CniError, ErrorCode, definePlugin, log, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { parsePortMapConfig, type PortMapConfig, portmapConfigSchema } from "./config.ts";
import { containerAddresses, enableLocalnetRouting } from "./host.ts";

const NEEDS_PREV_RESULT = "portmap is a chained plugin and needs the result of the plugin before it";

export default definePlugin<PortMapConfig>({
  name: "portmap",
  about: "CNI portmap plugin: forwards host ports to the container with iptables or nftables",
  configSchema: portmapConfigSchema,
  parseConfig: parsePortMapConfig,

  async add(request) {
    const { config } = request;
    const prevResult = requirePrevResult(request, NEEDS_PREV_RESULT);
    const portmap = portMapRequest(request, config, prevResult);
    if (!portmap) return prevResult;
    try {
      setupPortMappings(portmap, { backend: config.backend });
      const ipv4 = portmap.addresses.find((address) => familyOf(address) === 4);
      if (portmap.settings.snat && ipv4) enableLocalnetRouting(Cidr.parse(ipv4).address.toString());
    } catch (error) {
      undoSetup(portmap);
      throw error;
    }
    // After the rules, so the next datagram of a flow conntrack already knew is NATed afresh.
    clearStaleUdpEntries(udpHostPorts(config.mappings), portmap.addresses.map(familyOf), warn);
    return prevResult;
  },

  async del(request) {
    const { config } = request;
    // By chain name and rule comment: no addresses needed, so no prevResult either. Unlike the
    // reference, this runs even when DEL comes without portMappings (upstream cnitool sends none
    // unless CAP_ARGS is set again), which would otherwise leave the ADD's rules behind.
    teardownPortMappings({ network: config.network, containerId: request.containerId });
    clearStaleUdpEntries(udpHostPorts(config.mappings), [4, 6], warn);
  },

  async check(request) {
    const { config } = request;
    const portmap = portMapRequest(request, config, requirePrevResult(request, NEEDS_PREV_RESULT));
    if (portmap) checkPortMappings(portmap, { backend: config.backend });
  },

  async status(request) {
    const { config } = request;
    const probes = toolProbes(commandExecutor());
    const backend = chooseBackend(config.backend, probes);
    const usable = backend === "iptables" ? probes.iptablesUsable() : probes.nftablesUsable();
    if (!usable) {
      const how = config.backend === undefined ? "chosen" : "configured";
      throw new CniError(ErrorCode.NotAvailable, `the ${how} firewall backend ${backend} is not usable on this host: port mappings cannot be set up`);
    }
  },

  async gc(request) {
    gcPortMappings(request.config.name, request.validAttachments);
  },
});


/** What to forward, or nothing when there are no mappings or no container address to forward to. */
function portMapRequest(request: AttachmentRequest<PortMapConfig>, config: PortMapConfig, prevResult: Result): PortMapRequest | undefined {
  if (config.mappings.length === 0) return undefined;
  const addresses = containerAddresses(prevResult, request.ifname);
  if (addresses.length === 0) return undefined;
  return { network: config.network, containerId: request.containerId, addresses, mappings: config.mappings, settings: config.settings };
}

/** A failed ADD leaves no rules behind; a failure while cleaning up is logged, the original error is reported. */
function undoSetup(portmap: PortMapRequest): void {
  try {
    teardownPortMappings(portmap);
  } catch (error) {
    warn(`could not remove the rules of the failed ADD: ${(error as Error).message}`);
  }
}

function udpHostPorts(mappings: readonly PortMapping[]): number[] {
  return [...new Set(mappings.filter((mapping) => mapping.protocol === "udp").map((mapping) => mapping.hostPort))];
}

function familyOf(address: string): IPFamily {
  return Cidr.parse(address).family;
}

function warn(message: string): void {
  log(`portmap: ${message}`);
}
