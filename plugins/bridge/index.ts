/**
 * bridge: connects the container to a Linux bridge on the host through a veth pair, addresses it
 * through the configured IPAM plugin, and optionally makes the bridge its gateway and
 * masquerades its traffic.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { checkMasquerade, gcMasquerade, setupMasquerade, teardownMasquerade } from "../../lib/firewall/index.ts";
import { delegateAdd, delegateCheck, delegateDel, delegateGc, delegateStatus } from "../../lib/invoke/index.ts";
import { applyIpamResult } from "../../lib/ipam/apply.ts";
import { Rtnetlink, type Link } from "../../lib/netlink/index.ts";
import { NetNS, NetNSNotFound } from "../../lib/netns/index.ts";
import { enableForwarding } from "../../lib/netns/forwarding.ts";
import { trySysctl } from "../../lib/netns/sysctl.ts";
import { CniError, ErrorCode, Rollback, definePlugin, toCniError, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { checkAttachment } from "./check.ts";
import { bridgeConfigSchema, parseBridgeConfig, resolveBridgeConfig, type BridgeConfig, type BridgeConfigInput } from "./config.ts";
import { planGateways } from "./gateways.ts";
import { ensureBridge, ensureGatewayAddress } from "./host-bridge.ts";
import { createPort } from "./port.ts";
import { checkSpoofCheck, setupSpoofCheck, teardownSpoofCheck } from "./spoofcheck.ts";
import { ensureVlanGateway } from "./vlan-gateway.ts";

/** How long to wait for the host end to come up before calling the port broken. */
const PORT_UP_DELAYS_MS = [0, 50, 500, 1000, 1000];

export default definePlugin<BridgeConfigInput>({
  name: "bridge",
  about: "CNI bridge plugin: connects containers to a Linux bridge through veth pairs",
  configSchema: bridgeConfigSchema,
  parseConfig: parseBridgeConfig,

  async add(request) {
    const config = resolveBridgeConfig(request.config, request.args);
    const host = Rtnetlink.open();
    const netns = NetNS.open(request.netns);
    const container = Rtnetlink.openIn(netns);
    try {
      return await Rollback.guard((rollback) => addAttachment(request, config, { host, netns, container }, rollback));
    } finally {
      container.close();
      netns.close();
      host.close();
    }
  },

  async del(request) {
    const config = resolveBridgeConfig(request.config, request.args);
    const addresses = request.netns ? deleteContainerInterface(request.netns, request.ifname) : undefined;
    if (config.ipamType) await delegateDel(config.ipamType, request);
    if (config.macspoofchk) teardownSpoofCheck(request);
    if (config.ipMasq && config.ipamType) {
      teardownMasquerade({
        network: config.name,
        containerId: request.containerId,
        ifname: request.ifname,
        addresses: addresses ?? request.prevResult?.ips?.map((ipc) => ipc.address),
      });
    }
  },

  async check(request) {
    const config = resolveBridgeConfig(request.config, request.args);
    if (config.ipamType) await delegateCheck(config.ipamType, request);
    if (!request.prevResult) {
      throw new CniError(ErrorCode.InvalidConfig, "invalid config: prevResult=(missing): CHECK needs the result of the ADD");
    }
    const netns = NetNS.open(request.netns);
    const host = Rtnetlink.open();
    const container = Rtnetlink.openIn(netns);
    try {
      checkAttachment(host, container, config, request.netns, request.ifname, request.prevResult);
    } finally {
      container.close();
      host.close();
      netns.close();
    }
    if (config.macspoofchk) checkSpoofCheck(request, config.bridge, request.prevResult);
    if (config.ipMasq && config.ipamType) {
      const addresses = (request.prevResult.ips ?? []).map((ipc) => ipc.address);
      checkMasquerade({ network: config.name, containerId: request.containerId, ifname: request.ifname, addresses }, { backend: config.ipMasqBackend });
    }
  },

  async status(request) {
    const config = request.config;
    const host = Rtnetlink.open();
    try {
      reportBridgeStatus(host.linkByName(config.bridge), config.bridge);
    } finally {
      host.close();
    }
    if (config.ipam?.type) await delegateStatus(config.ipam.type, request);
  },

  async gc(request) {
    // GC goes on after a failure, removing as much as it can, and then reports every failure.
    const ipamType = request.config.ipam?.type;
    const failures: CniError[] = [];
    const attempt = async (work: () => unknown) => {
      try {
        await work();
      } catch (error) {
        failures.push(toCniError(error));
      }
    };
    if (ipamType) await attempt(() => delegateGc(ipamType, request));
    if (request.config.ipMasq) await attempt(() => gcMasquerade(request.config.name, request.validAttachments));
    if (failures.length > 0) {
      throw new CniError(failures[0]!.code, `GC: ${failures.map((failure) => failure.message).join("; ")}`);
    }
  },
});

interface Sockets {
  host: Rtnetlink;
  netns: NetNS;
  container: Rtnetlink;
}

async function addAttachment(
  request: AttachmentRequest<BridgeConfigInput>,
  config: BridgeConfig,
  { host, netns, container }: Sockets,
  rollback: Rollback,
): Promise<Result> {
  const bridge = ensureBridge(host, config, rollback);
  const port = createPort(host, container, netns, bridge, request.ifname, config, rollback);
  if (config.macspoofchk) setupSpoofCheck(request, port, rollback);
  let result: Result = {
    interfaces: [
      { name: bridge.name, mac: bridge.mac },
      { name: port.host.name, mac: port.host.mac },
      { name: port.container.name, mac: port.container.mac, sandbox: request.netns },
    ],
  };

  if (config.ipamType) {
    const ipamType = config.ipamType;
    const ipam = await delegateAdd(ipamType, request);
    rollback.add(`${ipamType} reservation`, () => delegateDel(ipamType, request));
    if (!ipam.ips?.length) throw new CniError(ErrorCode.DelegateFailed, `${ipamType} returned no IP address`);
    const plan = planGateways(ipam, config);
    result = { ...plan.result, interfaces: result.interfaces };

    netns.run(() => {
      const dad = config.enabledad ? "1" : "0";
      if (config.enabledad) trySysctl(`net/ipv6/conf/${request.ifname}/enhanced_dad`, "1");
      trySysctl(`net/ipv6/conf/${request.ifname}/accept_dad`, dad);
      trySysctl(`net/ipv4/conf/${request.ifname}/arp_notify`, "1");
    });
    await applyIpamResult(container, netns, request.ifname, result);

    if (config.isGateway) {
      for (const family of [4, 6] as const) {
        const gateways = plan.gateways[family];
        if (gateways.length === 0) continue;
        const gatewayLink: Link = config.vlan ? ensureVlanGateway(host, bridge, config, result, rollback) : bridge;
        for (const gateway of gateways) ensureGatewayAddress(host, gatewayLink, gateway, config.forceAddress);
        enableForwarding(family);
      }
    }

    if (config.ipMasq) {
      const masquerade = { network: config.name, containerId: request.containerId, ifname: request.ifname, addresses: result.ips!.map((ipc) => ipc.address) };
      setupMasquerade(masquerade, { backend: config.ipMasqBackend });
      rollback.add("masquerading", () => teardownMasquerade(masquerade));
    }
  } else if (!config.disableContainerInterface) {
    container.setLink(port.container.index, { up: true });
  }

  const hostEnd = config.disableContainerInterface ? host.linkByIndex(port.host.index) : await waitUntilUp(host, port.host);
  // MACs may have changed: the host end's on link-up, the bridge's when its first port joined.
  result.interfaces![1]!.mac = hostEnd?.mac ?? port.host.mac;
  result.interfaces![0]!.mac = host.linkByIndex(bridge.index)?.mac ?? bridge.mac;
  if (hasDns(config.dns)) result.dns = config.dns;
  return result;
}

/**
 * A bridge not made yet is fine (the first ADD makes it); a bridge that is down cuts off the
 * containers already on it (51); a non-bridge under its name makes every ADD fail (50).
 */
function reportBridgeStatus(bridge: Link | undefined, name: string): void {
  if (!bridge) return;
  if (bridge.kind !== "bridge") {
    throw new CniError(ErrorCode.NotAvailable, `${name} is a ${bridge.kind ?? "plain device"}, not a bridge: ADD cannot use it`);
  }
  if (!bridge.up) {
    throw new CniError(ErrorCode.LimitedConnectivity, `bridge ${name} is down: containers on it are cut off`);
  }
}

/** Polls the host end until the bridge port is up, as the reference does. */
async function waitUntilUp(host: Rtnetlink, port: Link): Promise<Link> {
  let state = port.operState;
  for (const delay of PORT_UP_DELAYS_MS) {
    if (delay) await sleep(delay);
    const link = host.linkByIndex(port.index);
    if (!link) throw new CniError(ErrorCode.KernelOperationFailed, `bridge port ${port.name} vanished`);
    if (link.operState === "up") return link;
    state = link.operState;
  }
  throw new CniError(ErrorCode.KernelOperationFailed, `bridge port ${port.name} stayed ${state} instead of coming up`);
}

/**
 * Deletes the container's interface (and so the veth pair) and returns the global addresses it
 * had, for masquerade teardown. A namespace or interface already gone is not an error on DEL.
 */
function deleteContainerInterface(netnsPath: string, ifname: string): string[] | undefined {
  let netns: NetNS;
  try {
    netns = NetNS.open(netnsPath);
  } catch (error) {
    if (error instanceof NetNSNotFound) return undefined;
    throw error;
  }
  const container = Rtnetlink.openIn(netns);
  try {
    const link = container.linkByName(ifname);
    if (!link) return undefined;
    const addresses = container
      .addresses({ index: link.index })
      .filter((address) => address.scope === 0)
      .map((address) => `${address.address}/${address.prefixLength}`);
    container.deleteLink(link.index);
    return addresses;
  } finally {
    container.close();
    netns.close();
  }
}

function hasDns(dns: BridgeConfig["dns"]): dns is NonNullable<BridgeConfig["dns"]> {
  return !!dns && (dns.nameservers !== undefined || dns.search !== undefined || dns.options !== undefined || !!dns.domain);
}
