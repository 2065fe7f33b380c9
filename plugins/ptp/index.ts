/**
 * ptp: a point-to-point link between the container and the host through a veth pair. The
 * container gets its IPAM addresses and reaches everything through the gateway; the host end
 * holds the gateway and a host route to each container address, and optionally masquerades
 * the container's traffic.
 */
import { Failures } from "../../lib/core/index.ts";
import { checkMasquerade, gcMasquerade, setupMasquerade, teardownMasquerade } from "../../lib/firewall/index.ts";
import { Ipam, ipamGc, ipamStatus } from "../../lib/invoke/index.ts";
import { createVethPair, releaseAndDeleteInterface, withAttachment, withDelAttachment, type Attachment } from "../../lib/link/index.ts";
import { enableForwarding, trySysctl } from "../../lib/netns/index.ts";
import { Rollback, definePlugin, dnsIsSet, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { peerAddresses } from "./addresses.ts";
import { checkAttachment } from "./check.ts";
import { ptpConfigSchema, parsePtpConfig, type PtpConfig } from "./config.ts";
import { configureContainerEnd } from "./container.ts";
import { configureHostEnd, deleteOrphanedHostEnd } from "./host.ts";

type PtpRequest = AttachmentRequest<PtpConfig>;

export default definePlugin<PtpConfig>({
  name: "ptp",
  about: "CNI ptp plugin: a point-to-point veth link between the container and the host",
  configSchema: ptpConfigSchema,
  parseConfig: parsePtpConfig,

  add: (request) => withAttachment(request.netns, (attachment) => Rollback.guard((rollback) => addAttachment(request, attachment, rollback))),

  async del(request) {
    const { config, prevResult } = request;
    const ipam = Ipam.of(request);
    await withDelAttachment(request.netns, async (attachment) => {
      const addresses = await releaseAndDeleteInterface(attachment, request.ifname, async () => ipam?.del());
      if (!attachment.container) deleteOrphanedHostEnd(attachment.host, prevResult);
      if (config.ipMasq) {
        teardownMasquerade({
          network: config.name,
          containerId: request.containerId,
          ifname: request.ifname,
          addresses: addresses ?? prevResult?.ips?.map((ipc) => ipc.address),
        });
      }
    });
  },

  async check(request) {
    const { config } = request;
    const prevResult = requirePrevResult(request, "CHECK needs the result of the ADD");
    await Ipam.of(request)?.check();
    const addresses = peerAddresses(prevResult.ips ?? []);
    await withAttachment(request.netns, (attachment) => checkAttachment(attachment, request.netns, request.ifname, prevResult, addresses));
    if (config.ipMasq) {
      const masquerade = { network: config.name, containerId: request.containerId, ifname: request.ifname, addresses: addresses.map(({ address }) => address.toString()) };
      checkMasquerade(masquerade, { backend: config.ipMasqBackend });
    }
  },

  status: (request) => ipamStatus(request),

  async gc(request) {
    // GC goes on after a failure, removing as much as it can, and then reports every failure.
    const failures = new Failures();
    await failures.attemptAsync(() => ipamGc(request));
    if (request.config.ipMasq) failures.attempt(() => gcMasquerade(request.config.name, request.validAttachments));
    failures.throwIfAny("GC");
  },
});

async function addAttachment(request: PtpRequest, attachment: Attachment, rollback: Rollback): Promise<Result> {
  const { config, ifname } = request;
  const { host } = attachment;
  const pair = createVethPair(attachment, { containerIfname: ifname, mtu: config.mtu }, rollback);
  // The plugin owns the host end's routes: router advertisements must not add any.
  trySysctl(`net/ipv6/conf/${pair.host.name}/accept_ra`, "0");
  host.setLink(pair.host.index, { up: true });

  // parsePtpConfig refused an ADD without an IPAM plugin.
  const ipamResult = await Ipam.of(request)!.add(rollback);
  const addresses = peerAddresses(ipamResult.ips ?? []);
  const result: Result = {
    ...ipamResult,
    interfaces: [
      { name: pair.host.name, mac: pair.host.mac },
      { name: ifname, mac: pair.container.mac, sandbox: request.netns },
    ],
    ips: (ipamResult.ips ?? []).map((ipc) => ({ ...ipc, interface: 1 })),
  };
  for (const family of new Set(addresses.map(({ address }) => address.family))) enableForwarding(family);

  await configureContainerEnd(attachment, ifname, result, addresses);
  configureHostEnd(host, pair.host, addresses);

  if (config.ipMasq) {
    const masquerade = { network: config.name, containerId: request.containerId, ifname, addresses: addresses.map(({ address }) => address.toString()) };
    setupMasquerade(masquerade, { backend: config.ipMasqBackend });
    rollback.add("masquerading", () => teardownMasquerade(masquerade));
  }
  if (dnsIsSet(config.dns)) result.dns = config.dns;
  return result;
}
