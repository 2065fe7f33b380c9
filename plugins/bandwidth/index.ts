/**
 * bandwidth: a chained plugin that limits a container's traffic with tbf qdiscs on the host
 * side of its veth pair, in each direction a rate is configured for (see shaping.ts).
 */
import { withAttachment, withDelAttachment } from "../../lib/link/index.ts";
import { CniError, ErrorCode, Rollback, definePlugin, requirePrevResult } from "../../lib/skel/index.ts";
import { TrafficControl } from "../../lib/tc/index.ts";
import type { Result } from "../../lib/types/index.ts";
import { checkShaping } from "./check.ts";
import { type BandwidthConfig, bandwidthConfigSchema, parseBandwidthConfig } from "./config.ts";
import { findHostVeth, vethPeerOf } from "./host-veth.ts";
import { ifbName, ignoreNotFound, shapeEgress, shapeIngress, unshape } from "./shaping.ts";

const NEEDS_PREV_RESULT = "bandwidth is a chained plugin: it needs the result of the plugin that created the interface (bridge, ptp, ...)";

export default definePlugin<BandwidthConfig>({
  name: "bandwidth",
  about: "CNI bandwidth plugin: limits a container's ingress and egress rates with tbf qdiscs",
  // Chained plugins need prevResult, which CNI 0.3.0 introduced; the reference starts there too.
  versions: ["0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"],
  configSchema: bandwidthConfigSchema,
  parseConfig: parseBandwidthConfig,

  async add(request) {
    const { plan } = request.config;
    const prevResult = requirePrevResult(request, NEEDS_PREV_RESULT);
    if (!plan.ingress && !plan.egress) return prevResult;

    return withAttachment(request.netns, ({ host, container }) => {
      const hostVeth = findHostVeth(host, container, request.ifname, request.netns, prevResult.interfaces ?? []);
      const tc = new TrafficControl(host);
      return Rollback.guard(async (rollback) => {
        const result: Result = { ...prevResult, interfaces: [...(prevResult.interfaces ?? [])] };
        if (plan.ingress) shapeIngress(tc, hostVeth, plan.ingress.tbf, rollback);
        if (plan.egress) {
          const name = ifbName(request.config.name, request.containerId);
          const ifb = shapeEgress(host, tc, hostVeth, name, plan.egress.tbf, rollback);
          result.interfaces!.push(ifb.mac ? { name: ifb.name, mac: ifb.mac } : { name: ifb.name });
        }
        return result;
      });
    });
  },

  async del(request) {
    // Whatever the configuration says now, take down what an ADD could have made: DEL must be
    // able to clean up after a configuration that has since changed or become invalid. With the
    // container side gone, its veth pair (and the qdiscs on it) went too; the ifb stays to remove.
    await withDelAttachment(request.netns, ({ host, container }) => {
      const tc = new TrafficControl(host);
      const ifb = host.linkByName(ifbName(request.config.name, request.containerId));
      const hostVeth = container ? asUndefinedOnCniError(() => vethPeerOf(host, container, request.ifname, request.netns)) : undefined;
      if (hostVeth) unshape(host, tc, hostVeth, ifb);
      if (ifb?.kind === "ifb") ignoreNotFound(() => host.deleteLink(ifb.index));
    });
  },

  async check(request) {
    const prevResult = requirePrevResult(request, NEEDS_PREV_RESULT);
    await withAttachment(request.netns, ({ host, container }) => {
      const hostVeth = asCheckFailure(() => findHostVeth(host, container, request.ifname, request.netns, prevResult.interfaces ?? []));
      checkShaping(host, new TrafficControl(host), hostVeth, ifbName(request.config.name, request.containerId), request.config.plan);
    });
  },
});

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
