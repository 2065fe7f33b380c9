/**
 * vlan: gives the container an 802.1Q VLAN link on a master interface, addressed through the
 * configured IPAM plugin.
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
import { Rollback, definePlugin, invalidConfig, requirePrevResult, type AttachmentRequest } from "../../lib/skel/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { checkVlan } from "./check.ts";
import { parseVlanConfig, vlanConfigSchema, type VlanConfig } from "./config.ts";
import { createVlanLink } from "./link.ts";

type VlanRequest = AttachmentRequest<VlanConfig>;

export default definePlugin<VlanConfig>({
  name: "vlan",
  about: "CNI vlan plugin: gives the container an 802.1Q VLAN link on a master interface",
  configSchema: vlanConfigSchema,
  parseConfig: parseVlanConfig,

  add: (request) => withAttachment(request.netns, (attachment) => Rollback.guard((rollback) => addVlan(request, attachment, rollback))),

  async del(request) {
    const ipam = Ipam.of(request);
    await withDelAttachment(request.netns, (attachment) => releaseAndDeleteInterface(attachment, request.ifname, async () => ipam?.del()));
  },

  async check(request) {
    await Ipam.of(request)?.check();
    const prevResult = requirePrevResult(request, "CHECK needs the result of the ADD");
    await withAttachment(request.netns, (attachment) => checkVlan(attachment, request, prevResult));
  },

  status: (request) => ipamStatus(request),
  gc: (request) => ipamGc(request),
});

async function addVlan(request: VlanRequest, attachment: Attachment, rollback: Rollback): Promise<Result> {
  const { config, ifname } = request;
  const ipam = Ipam.of(request);
  if (!ipam) throw invalidConfig("ipam", undefined, "required: a vlan link gets its addresses from an IPAM plugin");
  const master = resolveMaster(attachment, config);
  requireMtuWithinMaster(config.mtu, master.link);
  const vlan = createVlanLink(attachment, master, ifname, config, rollback);

  const addresses = await ipam.add(rollback);
  const result: Result = {
    interfaces: [{ name: ifname, mac: vlan.mac, sandbox: request.netns }],
    ips: addresses.ips.map((ipc) => ({ ...ipc, interface: 0 })),
    routes: addresses.routes,
    dns: config.dns,
  };
  await applyIpamResult(attachment, ifname, result);
  return result;
}
