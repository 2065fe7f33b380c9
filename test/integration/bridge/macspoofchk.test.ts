import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { pings, run } from "../firewall-plugin/harness.ts";

interface Container {
  netns: TestNetns;
  containerId: string;
  config: Record<string, unknown>;
  result: { interfaces: { name: string; mac: string }[]; ips: { address: string }[] };
  ip: string;
  mac: string;
}

type NftObject = Record<string, { chain?: string; name?: string; comment?: string; handle?: number; expr?: unknown[] }>;

/**
 * bridge with macspoofchk, with real frames: three containers on one bridge, a and b checked, c
 * not. The bridge and its nftables rules live in a "host" namespace of the test's own.
 */
describe("bridge macspoofchk", () => {
  let host: TestNetns;
  let network: TestNetwork;
  const containers = {} as Record<"a" | "b" | "c", Container>;

  const call = (container: Container, command: "ADD" | "DEL" | "CHECK", extra: Record<string, unknown> = {}) => ({
    command,
    containerId: container.containerId,
    netns: container.netns.path,
    ifname: "eth0",
    config: { ...container.config, ...extra },
    host: host.name,
  });
  const nftObjects = (): NftObject[] => JSON.parse(run(["nft", "-j", "list", "table", "bridge", "nat"], host.name)).nftables;
  const chainNames = () => nftObjects().flatMap((object) => (object.chain ? [object.chain.name!] : []));
  const rulesWithComment = (comment: string) => nftObjects().filter((object) => object.rule?.comment === comment);
  const setMac = (container: Container, mac: string) => {
    run(["ip", "link", "set", "eth0", "address", mac], container.netns.name);
    // Fresh neighbour entries on both ends: the next ping starts with an ARP request from the new MAC.
    for (const netns of [container.netns.name, containers.b.netns.name]) run(["ip", "neigh", "flush", "all"], netns);
  };

  beforeAll(() => {
    host = createNetns("msh");
    network = createTestNetwork({ dualStack: false });
    for (const [name, macspoofchk] of [["a", true], ["b", true], ["c", false]] as const) {
      const container = { netns: createNetns("msc"), containerId: uniqueName("msc"), config: network.bridgeConfig({ macspoofchk }) } as Container;
      containers[name] = container;
      container.result = mustCall("bridge", call(container, "ADD")).json;
      container.ip = container.result.ips[0]!.address.split("/")[0]!;
      container.mac = container.result.interfaces[2]!.mac;
    }
  });

  afterAll(() => {
    for (const container of Object.values(containers)) container.netns.remove();
    host?.remove();
    network?.cleanup();
  });

  it("sets up the reference's chains for the checked containers only", () => {
    const { a, b, c } = containers;
    expect(chainNames()).toEqual([
      "PREROUTING",
      `cni-br-iface-${a.containerId}-eth0`,
      `cni-br-iface-${a.containerId}-eth0-mac`,
      `cni-br-iface-${b.containerId}-eth0`,
      `cni-br-iface-${b.containerId}-eth0-mac`,
    ]);
    const prerouting = rulesWithComment(`macspoofchk-${a.containerId}-eth0`).find((object) => object.rule!.chain === "PREROUTING");
    expect(JSON.stringify(prerouting!.rule!.expr)).toContain(`"right":"${a.result.interfaces[1]!.name}"`);
    expect(chainNames().some((name) => name.includes(c.containerId))).toBe(false);
  });

  it("passes frames from containers with their own MACs", () => {
    expect(pings(containers.a.netns.name, containers.b.ip)).toBe(true);
    expect(pings(containers.c.netns.name, containers.b.ip)).toBe(true);
  });

  it("drops frames once a checked container forges its source MAC; an unchecked one gets through with a new MAC", () => {
    setMac(containers.a, "02:00:00:aa:00:01");
    expect(pings(containers.a.netns.name, containers.b.ip)).toBe(false);
    setMac(containers.c, "02:00:00:cc:00:01");
    expect(pings(containers.c.netns.name, containers.b.ip)).toBe(true);
  });

  it("passes frames again once the container's MAC is restored", () => {
    setMac(containers.a, containers.a.mac);
    expect(pings(containers.a.netns.name, containers.b.ip)).toBe(true);
  });

  it("CHECK passes, and fails with 104 once the drop rule is deleted by hand", () => {
    const a = containers.a;
    const withPrevResult = { prevResult: a.result };
    expect(callPlugin("bridge", call(a, "CHECK", withPrevResult)).status).toBe(0);
    const drop = rulesWithComment(`macspoofchk-${a.containerId}-eth0`).find((object) => JSON.stringify(object.rule!.expr) === '[{"drop":null}]');
    run(["nft", "delete", "rule", "bridge", "nat", drop!.rule!.chain!, "handle", String(drop!.rule!.handle)], host.name);
    const check = callPlugin("bridge", call(a, "CHECK", withPrevResult));
    expect(check.json).toMatchObject({ code: 104, msg: expect.stringContaining(`missing rule "drop" comment "macspoofchk-${a.containerId}-eth0"`) });
  });

  it("leaves no chains behind when ADD fails after setting up the check", () => {
    const netns = createNetns("msc");
    try {
      const failing = { netns, containerId: uniqueName("msc"), config: network.bridgeConfig({ macspoofchk: true, ipam: { type: "no-such-ipam" } }) } as Container;
      const before = chainNames();
      const outcome = callPlugin("bridge", call(failing, "ADD"));
      expect(outcome.status).toBe(1);
      expect(chainNames()).toEqual(before);
      expect(rulesWithComment(`macspoofchk-${failing.containerId}-eth0`)).toEqual([]);
    } finally {
      netns.remove();
    }
  });

  it("DEL removes the container's chains and rules only, and succeeds again", () => {
    const { a, b } = containers;
    mustCall("bridge", call(a, "DEL"));
    expect(rulesWithComment(`macspoofchk-${a.containerId}-eth0`)).toEqual([]);
    expect(chainNames()).toEqual(["PREROUTING", `cni-br-iface-${b.containerId}-eth0`, `cni-br-iface-${b.containerId}-eth0-mac`]);
    expect(rulesWithComment(`macspoofchk-${b.containerId}-eth0`)).toHaveLength(4);
    expect(callPlugin("bridge", call(a, "DEL")).status).toBe(0);

    mustCall("bridge", call(b, "DEL"));
    expect(chainNames()).toEqual(["PREROUTING"]);
  });
});
