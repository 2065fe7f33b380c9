/**
 * bandwidth: a chained plugin that limits a container's traffic with tbf qdiscs on the host
 * side of its veth pair, in each direction a rate is configured for (see shaping.ts).
 */
import { type Link, Rtnetlink } from "../../lib/netlink/index.ts";
import { NetNS, netnsExists } from "../../lib/netns/index.ts";
import { CniError, ErrorCode, Rollback, definePlugin, invalidConfig, type AttachmentRequest } from "../../lib/skel/index.ts";
import { TrafficControl, readPschedClock } from "../../lib/tc/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { checkShaping } from "./check.ts";
import { type BandwidthConfig, bandwidthConfigSchema, parseBandwidthConfig, resolveBandwidth } from "./config.ts";
import { findHostVeth, vethPeerOf } from "./host-veth.ts";
import { ifbName, ignoreNotFound, shapeEgress, shapeIngress, unshape } from "./shaping.ts";

export default definePlugin<BandwidthConfig>({
  name: "bandwidth",
  about: "CNI bandwidth plugin: limits a container's ingress and egress rates with tbf qdiscs",
  // Chained plugins need prevResult, which CNI 0.3.0 introduced; the reference starts there too.
  versions: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"],
  configSchema: bandwidthConfigSchema,
  parseConfig: parseBandwidthConfig,

  async add(request) {
    const plan = resolveBandwidth(request.config, readPschedClock());
    const prevResult = requirePrevResult(request);
    if (!plan.ingress && !plan.egress) return prevResult;

    const sockets = openSockets(request.netns);
    try {
      const hostVeth = findHostVeth(sockets.host, sockets.container, request.ifname, request.netns, prevResult.interfaces ?? []);
      const tc = new TrafficControl(sockets.host);
      return await Rollback.guard(async (rollback) => {
        const result: Result = { ...prevResult, interfaces: [...(prevResult.interfaces ?? [])] };
        if (plan.ingress) shapeIngress(tc, hostVeth, plan.ingress.tbf, rollback);
        if (plan.egress) {
          const name = ifbName(request.config.name, request.containerId);
          const ifb = shapeEgress(sockets.host, tc, hostVeth, name, plan.egress.tbf, rollback);
          result.interfaces!.push(ifb.mac ? { name: ifb.name, mac: ifb.mac } : { name: ifb.name });
        }
        return result;
      });
    } finally {
      closeSockets(sockets);
    }
  },

  async del(request) {
    // Whatever the configuration says now, take down what an ADD could have made: DEL must be
    // able to clean up after a configuration that has since changed or become invalid.
    const host = Rtnetlink.open();
    try {
      const tc = new TrafficControl(host);
      const ifb = host.linkByName(ifbName(request.config.name, request.containerId));
      const hostVeth = request.netns ? hostVethIfPresent(host, request.netns, request.ifname) : undefined;
      if (hostVeth) unshape(host, tc, hostVeth, ifb);
      if (ifb?.kind === "ifb") ignoreNotFound(() => host.deleteLink(ifb.index));
    } finally {
      host.close();
    }
  },

  async check(request) {
    const plan = resolveBandwidth(request.config, readPschedClock());
    const prevResult = requirePrevResult(request);
    const sockets = openSockets(request.netns);
    try {
      const hostVeth = asCheckFailure(() =>
        findHostVeth(sockets.host, sockets.container, request.ifname, request.netns, prevResult.interfaces ?? []),
      );
      checkShaping(sockets.host, new TrafficControl(sockets.host), hostVeth, ifbName(request.config.name, request.containerId), plan);
    } finally {
      closeSockets(sockets);
    }
  },
});

function requirePrevResult(request: AttachmentRequest<BandwidthConfig>): Result {
  if (request.prevResult) return request.prevResult;
  throw invalidConfig(
    "prevResult",
    undefined,
    "bandwidth is a chained plugin: it needs the result of the plugin that created the interface (bridge, ptp, ...)",
  );
}

interface Sockets {
  host: Rtnetlink;
  netns: NetNS;
  container: Rtnetlink;
}

function openSockets(netnsPath: string): Sockets {
  const host = Rtnetlink.open();
  let netns: NetNS | undefined;
  try {
    netns = NetNS.open(netnsPath);
    return { host, netns, container: Rtnetlink.openIn(netns) };
  } catch (error) {
    netns?.close();
    host.close();
    throw error;
  }
}

function closeSockets({ host, netns, container }: Sockets): void {
  container.close();
  netns.close();
  host.close();
}

/**
 * The host veth of a container whose namespace and interface are still there; undefined when
 * either is gone (the veth pair then went with them, and its qdiscs with it).
 */
function hostVethIfPresent(host: Rtnetlink, netnsPath: string, ifname: string): Link | undefined {
  if (!netnsExists(netnsPath)) return undefined;
  const netns = NetNS.open(netnsPath);
  const container = Rtnetlink.openIn(netns);
  try {
    return asUndefinedOnCniError(() => vethPeerOf(host, container, ifname, netnsPath));
  } finally {
    container.close();
    netns.close();
  }
}

function asUndefinedOnCniError<T>(work: () => T): T | undefined {
  try {
    return work();
  } catch (error) {
    if (error instanceof CniError) return undefined;
    throw error;
  }
}

/** In CHECK, a container interface or host veth that is not as ADD found it is a failed check. */
function asCheckFailure<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof CniError && error.code !== ErrorCode.CheckFailed) {
      throw new CniError(ErrorCode.CheckFailed, error.message.replace(/^invalid config: /, ""));
    }
    throw error;
  }
}
