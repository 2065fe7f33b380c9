import { describe, expect, it } from "vitest";
import { normalizeIpamConfig, planRequestedIPs, requestedFromCniArgs, requestedFromConfig, type RequestedIP } from "../../../lib/ipam/index.ts";

const { rangeSets } = normalizeIpamConfig({
  name: "n",
  cniVersion: "1.0.0",
  ipam: { ranges: [[{ subnet: "10.0.0.0/29" }], [{ subnet: "fd00::/64" }]] },
});

const plan = (...lists: RequestedIP[][]) => planRequestedIPs(rangeSets, lists.flat());

/** The address each range set is to reserve, as text; throws the first problem of the plan. */
function assign(...lists: RequestedIP[][]): (string | undefined)[] {
  const { perRangeSet, leftover } = plan(...lists);
  for (const entry of perRangeSet) if (entry instanceof Error) throw entry;
  if (leftover) throw leftover;
  return perRangeSet.map((entry) => entry?.toString());
}

describe("requested addresses", () => {
  it("reads CNI_ARGS IP as one address, with or without a prefix length", () => {
    expect(requestedFromCniArgs("10.0.0.5").map(({ address }) => address.toString())).toEqual(["10.0.0.5"]);
    expect(requestedFromCniArgs("10.0.0.5/24").map(({ address }) => address.toString())).toEqual(["10.0.0.5"]);
    expect(requestedFromCniArgs("")).toEqual([]);
    expect(requestedFromCniArgs(undefined)).toEqual([]);
  });

  it("reads several comma-separated CNI_ARGS addresses (an extension: the reference takes one)", () => {
    expect(requestedFromCniArgs("10.0.0.5,fd00::5").map(({ address }) => address.toString())).toEqual(["10.0.0.5", "fd00::5"]);
  });

  it("rejects a bad CNI_ARGS address as an environment error (code 4)", () => {
    expect(() => requestedFromCniArgs("10.0.0.5,bogus")).toThrow(
      expect.objectContaining({ code: 4, message: 'CNI_ARGS: IP="10.0.0.5,bogus": "bogus" is not an IP address' }),
    );
    expect(() => requestedFromCniArgs("10.0.0.5/33")).toThrow(expect.objectContaining({ code: 4 }));
  });

  it("rejects a bad address in the configuration naming the entry (code 7)", () => {
    expect(() => requestedFromConfig(["10.0.0.5/24", "nope"], "runtimeConfig.ips")).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining('runtimeConfig.ips[1]="nope": not an IP address') }),
    );
  });

  it("gives each range set the requested address it contains, whatever the source order", () => {
    expect(assign(requestedFromConfig(["fd00::9/64", "10.0.0.3/29"], "runtimeConfig.ips"))).toEqual(["10.0.0.3", "fd00::9"]);
    expect(assign(requestedFromCniArgs("10.0.0.3"))).toEqual(["10.0.0.3", undefined]);
    expect(assign([])).toEqual([undefined, undefined]);
  });

  it("counts the same address asked twice once", () => {
    expect(assign(requestedFromCniArgs("10.0.0.3"), requestedFromConfig(["::ffff:10.0.0.3"], "args.cni.ips"))).toEqual(["10.0.0.3", undefined]);
  });

  it("rejects an address outside every range set (code 7), naming the source and the range sets", () => {
    expect(() => assign(requestedFromConfig(["10.0.0.7"], "args.cni.ips"))).toThrow(
      expect.objectContaining({
        code: 7,
        message: 'invalid config: args.cni.ips[0]="10.0.0.7": requested IP 10.0.0.7 is not in any range set (0: 10.0.0.1-10.0.0.6; 1: fd00::1-fd00::ffff:ffff:ffff:ffff)',
      }),
    );
  });

  it("rejects two addresses for one range set (code 7)", () => {
    expect(() => assign(requestedFromCniArgs("10.0.0.3,10.0.0.4"))).toThrow(
      expect.objectContaining({ code: 7, message: expect.stringContaining("range set 0 (10.0.0.1-10.0.0.6) already takes requested IP 10.0.0.3") }),
    );
  });

  it("rejects a range's gateway (code 7) at that range set's turn", () => {
    const { perRangeSet, leftover } = plan(requestedFromConfig(["fd00::1"], "runtimeConfig.ips"));
    expect(perRangeSet[0]).toBeUndefined();
    expect(perRangeSet[1]).toEqual(expect.objectContaining({ code: 7, message: expect.stringContaining("requested IP fd00::1 is the gateway of range set 1") }));
    expect(leftover).toBeUndefined();
  });

  it("keeps the addresses it could place when another one is left over, for allocation to raise later", () => {
    const { perRangeSet, leftover } = plan(requestedFromCniArgs("10.0.0.3,192.0.2.1"));
    expect(perRangeSet.map((entry) => entry?.toString())).toEqual(["10.0.0.3", undefined]);
    expect(leftover).toEqual(expect.objectContaining({ code: 7 }));
  });
});
