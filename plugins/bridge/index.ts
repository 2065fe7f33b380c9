/**
 * bridge: connects the container to a Linux bridge on the host through a veth pair, addresses it
 * through the configured IPAM plugin, and optionally makes the bridge its gateway and
 * masquerades its traffic.
 */
import { Failures } from "../../lib/core/index.ts";
import { checkMasquerade, gcMasquerade, setupMasquerade, teardownMasquerade } from "../../lib/firewall/index.ts";
import { Ipam, ipamGc, ipamStatus } from "../../lib/invoke/index.ts";
import {
  applyIpamResult,
  releaseAndDeleteInterface,
  waitUntilUp,
  withAttachment,
  withDelAttachment,
  type Attachment,
} from "../../lib/link/index.ts";
import { Rtnetlink, type Link } from "../../lib/netlink/index.ts";
import { enableForwarding, trySysctl } from "../../lib/netns/index.ts";
import { CniError, ErrorCode, Rollback, definePlugin, dnsIsSet, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { checkAttachment } from "./check.ts";
import { bridgeConfigSchema, parseBridgeConfig, type BridgeConfig } from "./config.ts";
import { planGateways } from "./gateways.ts";
import { deleteOrphanedPort, ensureBridge, ensureGatewayAddress } from "./host-bridge.ts";
import { createPort } from "./port.ts";
import { checkSpoofCheck, setupSpoofCheck, teardownSpoofCheck } from "./spoofcheck.ts";
import { ensureVlanGateway } from "./vlan-gateway.ts";

type BridgeRequest = AttachmentRequest<BridgeConfig>;

export default definePlugin<BridgeConfig>({
  name: "bridge",
  about: "CNI bridge plugin: connects containers to a Linux bridge through veth pairs",
  configSchema: bridgeConfigSchema,
  parseConfig: parseBridgeConfig,

  add: (request) => withAttachment(request.netns, (attachment) => Rollback.guard((rollback) => addAttachment(request, attachment, rollback))),

  async del(request) {
    const { config } = request;
    const ipam = Ipam.of(request);
    await withDelAttachment(request.netns, async (attachment) => {
      const addresses = await releaseAndDeleteInterface(attachment, request.ifname, async () => ipam?.del());
      if (!attachment.container) deleteOrphanedPort(attachment.host, config.bridge, request.prevResult);
      if (config.macspoofchk) teardownSpoofCheck(request);
      if (config.ipMasq && ipam) {
        teardownMasquerade({
          network: config.name,
          containerId: request.containerId,
          ifname: request.ifname,
          addresses: addresses ?? request.prevResult?.ips?.map((ipc) => ipc.address),
        });
      }
    });
  },

  async check(request) {
    const { config } = request;
    const ipam = Ipam.of(request);
    await ipam?.check();
    const prevResult = requirePrevResult(request, "CHECK needs the result of the ADD");
    await withAttachment(request.netns, (attachment) => checkAttachment(attachment, config, request.netns, request.ifname, prevResult));
    if (config.macspoofchk) checkSpoofCheck(request, config.bridge, prevResult);
    if (config.ipMasq && ipam) {
      const addresses = (prevResult.ips ?? []).map((ipc) => ipc.address);
      checkMasquerade({ network: config.name, containerId: request.containerId, ifname: request.ifname, addresses }, { backend: config.ipMasqBackend });
    }
  },

  async status(request) {
    const { bridge } = request.config;
    const host = Rtnetlink.open();
    try {
      reportBridgeStatus(host.linkByName(bridge), bridge);
    } finally {
      host.close();
    }
    await ipamStatus(request);
  },

  async gc(request) {
    // GC goes on after a failure, removing as much as it can, and then reports every failure.
    const failures = new Failures();
    await failures.attemptAsync(() => ipamGc(request));
    if (request.config.ipMasq) failures.attempt(() => gcMasquerade(request.config.name, request.validAttachments));
    failures.throwIfAny("GC");
  },
});

async function addAttachment(request: BridgeRequest, attachment: Attachment, rollback: Rollback): Promise<Result> {
  const { config, ifname } = request;
  const { host, netns } = attachment;
  const bridge = ensureBridge(host, config, rollback);
  const port = createPort(attachment, bridge, ifname, config, rollback);
  if (config.macspoofchk) setupSpoofCheck(request, port, rollback);
  let result: Result = {
    interfaces: [
      { name: bridge.name, mac: bridge.mac },
      { name: port.host.name, mac: port.host.mac },
      { name: port.container.name, mac: port.container.mac, sandbox: request.netns },
    ],
  };

  const ipam = Ipam.of(request);
  if (ipam) {
    const plan = planGateways(await ipam.add(rollback), config);
    result = { ...plan.result, interfaces: result.interfaces };

    netns.run(() => {
      const dad = config.enabledad ? "1" : "0";
      if (config.enabledad) trySysctl(`net/ipv6/conf/${ifname}/enhanced_dad`, "1");
      trySysctl(`net/ipv6/conf/${ifname}/accept_dad`, dad);
      trySysctl(`net/ipv4/conf/${ifname}/arp_notify`, "1");
    });
    await applyIpamResult(attachment, ifname, result);

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
      const masquerade = { network: config.name, containerId: request.containerId, ifname, addresses: result.ips!.map((ipc) => ipc.address) };
      setupMasquerade(masquerade, { backend: config.ipMasqBackend });
      rollback.add("masquerading", () => teardownMasquerade(masquerade));
    }
  } else if (!config.disableContainerInterface) {
    attachment.container.setLink(port.container.index, { up: true });
  }

  const hostEnd = config.disableContainerInterface ? host.linkByIndex(port.host.index) : await waitUntilUp(host, port.host);
  // MACs may have changed: the host end's on link-up, the bridge's when its first port joined.
  result.interfaces![1]!.mac = hostEnd?.mac ?? port.host.mac;
  result.interfaces![0]!.mac = host.linkByIndex(bridge.index)?.mac ?? bridge.mac;
  if (dnsIsSet(config.dns)) result.dns = config.dns;
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
