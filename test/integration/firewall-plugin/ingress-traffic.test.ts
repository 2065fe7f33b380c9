import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mustCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { filterRules, pings, run } from "./harness.ts";

interface Container {
  name: string;
  netns: TestNetns;
  network: TestNetwork;
  containerId: string;
  result: { ips: { address: string }[] };
  ip: string;
}

/**
 * Real traffic through a "host" namespace of the test's own whose FORWARD policy is DROP (bridged
 * frames go through iptables too: bridge-nf-call-iptables is on), so only the firewall plugin's
 * accept rules let anything through. Two networks, each with its own bridge: a1 and a2 on A,
 * b1 on B; the host routes between the bridges.
 */
describe("firewall ingressPolicy with real traffic", () => {
  let host: TestNetns;
  let networkA: TestNetwork;
  let networkB: TestNetwork;
  const containers: Record<"a1" | "a2" | "b1", Container> = {} as Record<"a1" | "a2" | "b1", Container>;

  const bridgeConfig = (network: TestNetwork) => network.bridgeConfig({ isDefaultGateway: true });
  const firewallConfig = (container: Container, ingressPolicy: string) => ({
    cniVersion: "1.0.0",
    name: container.network.name,
    type: "firewall",
    backend: "iptables",
    ingressPolicy,
    prevResult: container.result,
  });
  const call = (container: Container, command: "ADD" | "DEL", config: object) => ({
    command,
    containerId: container.containerId,
    netns: container.netns.path,
    ifname: "eth0",
    config,
    host: host.name,
  });
  const firewall = (command: "ADD" | "DEL", ingressPolicy: string, names: (keyof typeof containers)[]) => {
    for (const name of names) mustCall("firewall", call(containers[name], command, firewallConfig(containers[name], ingressPolicy)));
  };
  const reaches = (from: keyof typeof containers, to: keyof typeof containers) => pings(containers[from].netns.name, containers[to].ip);

  beforeAll(() => {
    host = createNetns("fwh");
    networkA = createTestNetwork({ dualStack: false });
    networkB = createTestNetwork({ dualStack: false });
    for (const family of ["iptables", "ip6tables"]) run([family, "-P", "FORWARD", "DROP"], host.name);
    run(["sysctl", "-q", "-w", "net.bridge.bridge-nf-call-iptables=1"], host.name);
    for (const [name, network] of [["a1", networkA], ["a2", networkA], ["b1", networkB]] as const) {
      const netns = createNetns("fwc");
      const container = { name, netns, network, containerId: uniqueName("fwt") } as Container;
      containers[name] = container;
      container.result = mustCall("bridge", call(container, "ADD", bridgeConfig(network))).json;
      container.ip = container.result.ips[0]!.address.split("/")[0]!;
    }
  });

  afterAll(() => {
    for (const container of Object.values(containers)) container.netns.remove();
    host?.remove();
    networkA?.cleanup();
    networkB?.cleanup();
  });

  it("gets nothing through a DROP forward policy without the plugin, not even within a bridge", () => {
    expect(reaches("a1", "a2")).toBe(false);
    expect(reaches("a1", "b1")).toBe(false);
  });

  it("with ingressPolicy open lets every container reach every other, across bridges too", () => {
    firewall("ADD", "open", ["a1", "a2", "b1"]);
    expect(reaches("a1", "a2")).toBe(true);
    expect(reaches("a1", "b1")).toBe(true);
    expect(reaches("b1", "a2")).toBe(true);
  });

  it("cuts the traffic again once DEL removed the rules", () => {
    firewall("DEL", "open", ["a1", "a2", "b1"]);
    expect(reaches("a1", "b1")).toBe(false);
    expect(filterRules(4, host.name).filter((line) => line.startsWith("-A CNI-FORWARD -s"))).toEqual([]);
  });

  it("with same-bridge keeps traffic within a bridge and stops it between bridges", () => {
    firewall("ADD", "same-bridge", ["a1", "a2", "b1"]);
    expect(reaches("a1", "a2")).toBe(true);
    expect(reaches("a2", "a1")).toBe(true);
    expect(reaches("a1", "b1")).toBe(false);
    expect(reaches("b1", "a1")).toBe(false);

    const [a, b] = [networkA.bridge, networkB.bridge];
    const shared = '-m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge|isolated)"';
    const own = '-m comment --comment "CNI firewall plugin rules (ingressPolicy: same-bridge)"';
    expect(filterRules(4, host.name).filter((line) => line.includes("ISOLATION"))).toEqual([
      ":CNI-ISOLATION-STAGE-1 - [0:0]",
      ":CNI-ISOLATION-STAGE-2 - [0:0]",
      `-A FORWARD ${shared} -j CNI-ISOLATION-STAGE-1`,
      `-A CNI-ISOLATION-STAGE-1 -i ${b} ! -o ${b} ${own} -j CNI-ISOLATION-STAGE-2`,
      `-A CNI-ISOLATION-STAGE-1 -i ${a} ! -o ${a} ${own} -j CNI-ISOLATION-STAGE-2`,
      `-A CNI-ISOLATION-STAGE-1 ${shared} -j RETURN`,
      `-A CNI-ISOLATION-STAGE-2 -o ${b} ${shared} -j DROP`,
      `-A CNI-ISOLATION-STAGE-2 -o ${a} ${shared} -j DROP`,
      `-A CNI-ISOLATION-STAGE-2 ${shared} -j RETURN`,
    ]);
    expect(filterRules(4, host.name).indexOf(`-A FORWARD ${shared} -j CNI-ISOLATION-STAGE-1`)).toBeLessThan(
      filterRules(4, host.name).indexOf('-A FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD'),
    );
  });

  it("with isolated also stops traffic between containers of one bridge", () => {
    firewall("DEL", "same-bridge", ["a1", "a2"]);
    firewall("ADD", "isolated", ["a1", "a2"]);
    expect(reaches("a1", "a2")).toBe(false);
    expect(reaches("a1", "b1")).toBe(false);
    const a = networkA.bridge;
    expect(filterRules(4, host.name).find((line) => line.startsWith("-A CNI-ISOLATION-STAGE-1"))).toBe(
      `-A CNI-ISOLATION-STAGE-1 -i ${a} -o ${a} -m comment --comment "CNI firewall plugin rules (ingressPolicy: isolated)" -j DROP`,
    );
  });
});
