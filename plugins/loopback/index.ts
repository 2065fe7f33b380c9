/**
 * loopback: brings the container's `lo` up on ADD and down on DEL. CNI_IFNAME is ignored, as in
 * the reference: this plugin only ever touches `lo`.
 */
import { Rtnetlink } from "../../lib/netlink/index.ts";
import { NetNS, NetNSNotFound } from "../../lib/netns/index.ts";
import { CniError, ErrorCode, definePlugin, netConfSchema, parseWithSchema } from "../../lib/skel/index.ts";
import type { IPConfig, Result } from "../../lib/types/index.ts";

const LOOPBACK = "lo";

export default definePlugin({
  name: "loopback",
  about: "CNI loopback plugin: sets the container's loopback interface up",
  configSchema: netConfSchema,
  parseConfig: (raw) => parseWithSchema(netConfSchema, raw),

  async add({ netns, prevResult }) {
    const addresses = withLoopback(netns, (nl, index) => {
      nl.setLink(index, { up: true });
      return nl.addresses({ index });
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

  async del({ netns }) {
    if (!netns) return;
    try {
      withLoopback(netns, (nl, index) => nl.setLink(index, { up: false }));
    } catch (error) {
      // DEL after the namespace is gone has nothing left to undo.
      if (!(error instanceof NetNSNotFound)) throw error;
    }
  },

  async check({ netns }) {
    const up = withLoopback(netns, (nl, index) => nl.linkByIndex(index)?.up ?? false);
    if (!up) throw new CniError(ErrorCode.CheckFailed, `${LOOPBACK} is down in ${netns}`);
  },
});

function withLoopback<T>(netnsPath: string, work: (nl: Rtnetlink, index: number) => T): T {
  const netns = NetNS.open(netnsPath);
  const nl = Rtnetlink.openIn(netns);
  try {
    const lo = nl.linkByName(LOOPBACK);
    if (!lo) throw new CniError(ErrorCode.KernelOperationFailed, `${netnsPath} has no ${LOOPBACK} interface`);
    return work(nl, lo.index);
  } finally {
    nl.close();
    netns.close();
  }
}

function isLoopbackAddress(address: string): boolean {
  return address.startsWith("127.") || address === "::1";
}
