/**
 * ipvlan: gives the container an ipvlan link on a master interface (sharing the master's MAC),
 * addressed through IPAM, or, chained after another plugin without `ipam`, with the addresses
 * of prevResult on the single interface prevResult names as master.
 */
import { Ipam, ipamGc, ipamStatus } from "../../lib/invoke/index.ts";
import {
  applyIpamResult,
  createLinkOnMaster,
  releaseAndDeleteInterface,
  requireMtuWithinMaster,
  resolveMaster,
  withAttachment,
  withDelAttachment,
  type Attachment,
} from "../../lib/link/index.ts";
import { trySysctl } from "../../lib/netns/index.ts";
import { Rollback, definePlugin, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { checkIpvlan } from "./check.ts";
import { chooseMaster, requireAddressSource } from "./chained.ts";
import { ipvlanConfigSchema, parseIpvlanConfig, type IpvlanConfig } from "./config.ts";

type IpvlanRequest = AttachmentRequest<IpvlanConfig>;

export default definePlugin<IpvlanConfig>({
  name: "ipvlan",
  about: "CNI ipvlan plugin: gives the container an ipvlan link on a master interface",
  configSchema: ipvlanConfigSchema,
  parseConfig: parseIpvlanConfig,

  add: (request) => withAttachment(request.netns, (attachment) => Rollback.guard((rollback) => addIpvlan(request, attachment, rollback))),

  async del(request) {
    const ipam = Ipam.of(request);
    await withDelAttachment(request.netns, (attachment) => releaseAndDeleteInterface(attachment, request.ifname, async () => ipam?.del()));
  },

  async check(request) {
    await Ipam.of(request)?.check();
    const prevResult = requirePrevResult(request, "CHECK needs the result of the ADD");
    await withAttachment(request.netns, (attachment) => checkIpvlan(attachment, request, prevResult));
  },

  status: (request) => ipamStatus(request),
  gc: (request) => ipamGc(request),
});

async function addIpvlan(request: IpvlanRequest, attachment: Attachment, rollback: Rollback): Promise<Result> {
  const { config, ifname } = request;
  const ipam = Ipam.of(request);
  const fromPrevResult = requireAddressSource(ipam, request.prevResult);
  const master = resolveMaster(attachment, chooseMaster(config, request.prevResult));
  requireMtuWithinMaster(config.mtu, master.link);
  const spec = { kind: "ipvlan" as const, mode: config.mode, mtu: config.mtu || undefined };
  const ipvlan = createLinkOnMaster(attachment, master, ifname, spec, rollback);

  const addresses = fromPrevResult ?? (await ipam!.add(rollback));
  const result: Result = {
    ...addresses,
    interfaces: [{ name: ifname, mac: ipvlan.mac, sandbox: request.netns }],
    ips: (addresses.ips ?? []).map((ipc) => ({ ...ipc, interface: 0 })),
    dns: config.dns,
  };
  // Neighbours learn where the addresses went at once instead of when their caches expire.
  attachment.netns.run(() => {
    trySysctl(`net/ipv4/conf/${ifname}/arp_notify`, "1");
    trySysctl(`net/ipv6/conf/${ifname}/ndisc_notify`, "1");
  });
  await applyIpamResult(attachment, ifname, result);
  return result;
}
