/**
 * macvlan: gives the container a macvlan link on a master interface (its own MAC on the
 * master's segment), addressed through the configured IPAM plugin or, without one, up and
 * unaddressed (layer 2 only).
 */
import { Ipam, ipamGc, ipamStatus } from "../../lib/invoke/index.ts";
import {
  applyIpamResult,
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
import { checkMacvlan } from "./check.ts";
import { macvlanConfigSchema, parseMacvlanConfig, type MacvlanConfig } from "./config.ts";
import { createMacvlan } from "./link.ts";

type MacvlanRequest = AttachmentRequest<MacvlanConfig>;

export default definePlugin<MacvlanConfig>({
  name: "macvlan",
  about: "CNI macvlan plugin: gives the container a macvlan link on a master interface",
  configSchema: macvlanConfigSchema,
  parseConfig: parseMacvlanConfig,

  add: (request) => withAttachment(request.netns, (attachment) => Rollback.guard((rollback) => addMacvlan(request, attachment, rollback))),

  async del(request) {
    const ipam = Ipam.of(request);
    await withDelAttachment(request.netns, (attachment) => releaseAndDeleteInterface(attachment, request.ifname, async () => ipam?.del()));
  },

  async check(request) {
    await Ipam.of(request)?.check();
    const prevResult = requirePrevResult(request, "CHECK needs the result of the ADD");
    await withAttachment(request.netns, (attachment) => checkMacvlan(attachment, request, prevResult));
  },

  status: (request) => ipamStatus(request),
  gc: (request) => ipamGc(request),
});

async function addMacvlan(request: MacvlanRequest, attachment: Attachment, rollback: Rollback): Promise<Result> {
  const { config, ifname } = request;
  const master = resolveMaster(attachment, config);
  requireMtuWithinMaster(config.mtu, master.link);
  const macvlan = createMacvlan(attachment, master, ifname, config, rollback);
  const interfaces = [{ name: ifname, mac: macvlan.mac, sandbox: request.netns }];

  const ipam = Ipam.of(request);
  if (!ipam) {
    attachment.container.setLink(macvlan.index, { up: true });
    return { interfaces, dns: config.dns };
  }
  const addresses = await ipam.add(rollback);
  const result: Result = {
    interfaces,
    ips: addresses.ips.map((ipc) => ({ ...ipc, interface: 0 })),
    routes: addresses.routes,
    dns: config.dns,
  };
  // Neighbours learn the new MAC at once instead of when their caches expire.
  attachment.netns.run(() => {
    trySysctl(`net/ipv4/conf/${ifname}/arp_notify`, "1");
    trySysctl(`net/ipv6/conf/${ifname}/ndisc_notify`, "1");
  });
  await applyIpamResult(attachment, ifname, result);
  return result;
}
