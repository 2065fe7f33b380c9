import type { Link, Rtnetlink } from "../../lib/netlink/index.ts";
import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import { INGRESS_HANDLE, TC_H_ROOT, type TbfParameters, type TrafficControl, describeTbf } from "../../lib/tc/index.ts";
import type { BandwidthPlan, DirectionPlan } from "./config.ts";
import { REDIRECT_CLASS_ID } from "./shaping.ts";

function checkFailed(message: string): CniError {
  return new CniError(ErrorCode.CheckFailed, message);
}

/**
 * CHECK: every tbf ADD made is in place with the numbers the configuration gives now (rate,
 * buffer and limit, which the reference compares too), and the egress path holds together:
 * the ifb exists, and the host veth's ingress qdisc has the filter redirecting to it.
 */
export function checkShaping(host: Rtnetlink, tc: TrafficControl, hostVeth: Link, ifbName: string, plan: BandwidthPlan): void {
  if (plan.ingress) expectTbf(tc, hostVeth, plan.ingress, "ingress");
  if (plan.egress) {
    const ifb = host.linkByName(ifbName);
    if (!ifb) throw checkFailed(`ifb device ${ifbName} (egress shaping) does not exist`);
    if (ifb.kind !== "ifb") throw checkFailed(`${ifbName} is ${ifb.kind ? `a ${ifb.kind}` : "a plain device"}, not an ifb device`);
    expectRedirect(tc, hostVeth, ifb);
    expectTbf(tc, ifb, plan.egress, "egress");
  }
}

function expectTbf(tc: TrafficControl, device: Link, plan: DirectionPlan, direction: string): void {
  const root = tc.qdiscs(device).find((qdisc) => qdisc.parent === TC_H_ROOT);
  if (root?.kind !== "tbf" || !root.tbf) {
    throw checkFailed(`${device.name} has ${root ? `a ${root.kind}` : "no"} root qdisc where the tbf shaping ${direction} traffic belongs`);
  }
  const mismatch = differences(root.tbf, plan.tbf);
  if (mismatch.length > 0) {
    throw checkFailed(
      `the tbf of ${device.name} (${direction}) has ${mismatch.join(", ")}; ` +
        `${plan.rateField}=${plan.rateBits} with a ${plan.burstBits}-bit burst needs ${describeTbf(plan.tbf)}`,
    );
  }
}

function differences(actual: TbfParameters, expected: TbfParameters): string[] {
  const units = { rate: "bytes/s", buffer: "ticks", limit: "bytes" } as const;
  return (Object.keys(units) as (keyof typeof units)[])
    .filter((key) => actual[key] !== expected[key])
    .map((key) => `${key} ${actual[key]} ${units[key]}`);
}

function expectRedirect(tc: TrafficControl, hostVeth: Link, ifb: Link): void {
  if (!tc.qdiscs(hostVeth).some((qdisc) => qdisc.kind === "ingress" && qdisc.handle === INGRESS_HANDLE)) {
    throw checkFailed(`${hostVeth.name} has no ingress qdisc: its incoming (egress) traffic is not redirected to ${ifb.name}`);
  }
  const redirects = tc.filters(hostVeth, INGRESS_HANDLE).some((filter) => {
    const first = filter.u32?.actions[0]?.mirred;
    const matchesAll = filter.u32?.keys.every((key) => key.mask === 0) ?? false;
    return matchesAll && filter.u32?.classId === REDIRECT_CLASS_ID && first?.mode === "redirect" && first.direction === "egress" && first.ifindex === ifb.index;
  });
  if (!redirects) throw checkFailed(`no filter on ${hostVeth.name} redirects its incoming (egress) traffic to ${ifb.name}`);
}
