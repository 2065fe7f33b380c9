/**
 * vrf: a chained plugin that puts the interface an earlier plugin made into a VRF (a Linux
 * virtual routing and forwarding device) inside the container, creating the VRF when the
 * container has none of that name, so the interface's routes live in the VRF's own table. DEL
 * takes the interface out and deletes the VRF when its last member has left. The previous
 * result passes through unchanged.
 */
import { withAttachment, withDelAttachment } from "../../lib/link/index.ts";
import type { Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, Rollback, definePlugin, invalidEnvironment, requirePrevResult } from "../../lib/skel/index.ts";
import { parseVrfConfig, vrfConfigSchema, type VrfConfig } from "./config.ts";
import { enslave } from "./enslave.ts";
import { ensureVrf, isVrf, membersOf } from "./vrf-link.ts";

const NEEDS_PREV_RESULT = "vrf is a chained plugin and moves the interface of the plugin before it";

export default definePlugin<VrfConfig>({
  name: "vrf",
  about: "CNI vrf plugin: puts the container's interface into a VRF in the container",
  versions: ["0.3.1", "0.4.0", "1.0.0", "1.1.0"],
  configSchema: vrfConfigSchema,
  parseConfig: parseVrfConfig,

  async add(request) {
    const prevResult = requirePrevResult(request, NEEDS_PREV_RESULT);
    await withAttachment(request.netns, ({ container }) =>
      Rollback.guard(async (rollback) => {
        const link = container.linkByName(request.ifname);
        if (!link) throw invalidEnvironment("CNI_IFNAME", `no interface ${request.ifname} in ${request.netns}: vrf moves an interface an earlier plugin of the chain made`);
        const vrf = ensureVrf(container, request.config, rollback);
        enslave(container, link, vrf, rollback);
      }),
    );
    return prevResult;
  },

  async del(request) {
    // With the container gone, so are its VRF and interface: the host holds nothing.
    await withDelAttachment(request.netns, ({ container }) => {
      if (container) leaveVrf(container, request.ifname, request.config.vrfname);
    });
  },

  async check(request) {
    requirePrevResult(request, NEEDS_PREV_RESULT);
    const { vrfname, table } = request.config;
    await withAttachment(request.netns, ({ container }) => {
      const vrf = container.linkByName(vrfname);
      if (!vrf || !isVrf(vrf)) throw new CniError(ErrorCode.CheckFailed, `no VRF ${vrfname} in ${request.netns}`);
      if (table !== undefined && vrf.vrf.table !== table) {
        throw new CniError(ErrorCode.CheckFailed, `VRF ${vrfname} has table ${vrf.vrf.table}, not ${table}`);
      }
      if (!membersOf(container, vrf).some((link) => link.name === request.ifname)) {
        throw new CniError(ErrorCode.CheckFailed, `${request.ifname} is not in VRF ${vrfname}`);
      }
    });
  },
});

/** Takes the interface out of the VRF, and deletes the VRF once no interface is left in it. */
function leaveVrf(container: Rtnetlink, ifname: string, vrfname: string): void {
  const vrf = container.linkByName(vrfname);
  if (!vrf || !isVrf(vrf)) return;
  const link = container.linkByName(ifname);
  if (link?.master === vrf.index) container.setLink(link.index, { master: 0 });
  if (membersOf(container, vrf).length === 0) container.deleteLink(vrf.index);
}
