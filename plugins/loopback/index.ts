/**
 * loopback: brings the container's `lo` up on ADD and down on DEL. CNI_IFNAME is ignored, as in
 * the reference: this plugin only ever touches `lo`.
 */
import { withAttachment, withDelAttachment } from "../../lib/link/index.ts";
import type { Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode, definePlugin, netConfSchema, parseWithSchema } from "../../lib/skel/index.ts";
import type { IPConfig, Result } from "../../lib/types/index.ts";

const LOOPBACK = "lo";

export default definePlugin({
  name: "loopback",
  about: "CNI loopback plugin: sets the container's loopback interface up",
  configSchema: netConfSchema,
  parseConfig: (raw) => parseWithSchema(netConfSchema, raw),

  async add({ netns, prevResult }) {
    const addresses = await withAttachment(netns, ({ container }) => {
      const index = loopbackIndex(container, netns);
      container.setLink(index, { up: true });
      return container.addresses({ index });
    });
    const nonLoopback = addresses.find((address) => !isLoopbackAddress(address.address));
    if (nonLoopback) {
      throw new CniError(ErrorCode.InvalidConfig, `${LOOPBACK} has a non-loopback address ${nonLoopback.address}`);
    }
    if (prevResult) return prevResult;
    const firstOf = (family: 4 | 6): IPConfig[] => {
      const address = addresses.find((candidate) => candidate.family === family);
      return address ? [{ interface: 0, address: `${address.address}/${address.prefixLength}` }] : [];
    };
    const result: Result = {
      interfaces: [{ name: LOOPBACK, mac: "00:00:00:00:00:00", sandbox: netns }],
      ips: [...firstOf(4), ...firstOf(6)],
    };
    return result;
  },

  // With the container side gone there is nothing left to undo.
  async del({ netns }) {
    await withDelAttachment(netns, ({ container }) => {
      if (container) container.setLink(loopbackIndex(container, netns), { up: false });
    });
  },

  async check({ netns }) {
    const up = await withAttachment(netns, ({ container }) => container.linkByIndex(loopbackIndex(container, netns))?.up ?? false);
    if (!up) throw new CniError(ErrorCode.CheckFailed, `${LOOPBACK} is down in ${netns}`);
  },
});

function loopbackIndex(nl: Rtnetlink, netnsPath: string): number {
  const lo = nl.linkByName(LOOPBACK);
  if (!lo) throw new CniError(ErrorCode.KernelOperationFailed, `${netnsPath} has no ${LOOPBACK} interface`);
  return lo.index;
}

function isLoopbackAddress(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}
