import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { chooseBackend, commandExecutor, setupMasquerade, teardownMasquerade, toolProbes } from "../../../lib/firewall/index.ts";
import { NetNS } from "../../../lib/netns/index.ts";
import { createFirewallNetns, type FirewallNetns } from "./firewall-netns.ts";

const c1 = { network: "net1", containerId: "c1", ifname: "eth0", addresses: ["10.31.0.2/24"] };

describe("the firewall on this machine", () => {
  let fw: FirewallNetns;

  beforeEach(() => {
    fw = createFirewallNetns("fwb");
  });
  afterEach(() => fw.ns.remove());

  it("finds both backends usable and, like the reference, picks iptables by default", () => {
    const probes = toolProbes(fw.executor);
    expect(probes.iptablesUsable()).toBe(true);
    expect(probes.nftablesUsable()).toBe(true);
    expect(chooseBackend(undefined, probes)).toBe("iptables");
  });

  it("sets up iptables rules when no backend is configured", () => {
    setupMasquerade(c1, { executor: fw.executor });
    expect(fw.iptablesRules(4)).toHaveLength(4);
    expect(fw.nftTable("inet", "cni_plugins_masquerade")).toBeUndefined();
  });

  it("tears down the rules of both backends, whichever was configured", () => {
    setupMasquerade(c1, { backend: "iptables", executor: fw.executor });
    setupMasquerade(c1, { backend: "nftables", executor: fw.executor });
    teardownMasquerade(c1, { executor: fw.executor });
    expect(fw.iptablesRules(4)).toEqual([]);
    const rules = fw.nftTable("inet", "cni_plugins_masquerade")!.filter((entry) => entry.rule?.chain === "masq_checks");
    expect(rules).toEqual([]);
  });

  it("works inside NetNS.run with the default executor: the tools start in that namespace", () => {
    const ns = NetNS.open(fw.ns.path);
    try {
      ns.run(() => {
        // Only touch the firewall once a child is known to start in the test's namespace,
        // so a failure here can never write rules on the host.
        const childNetns = spawnSync("readlink", ["/proc/self/ns/net"], { encoding: "utf8" }).stdout.trim();
        expect(childNetns).toBe(`net:[${statSync(fw.ns.path).ino}]`);
        setupMasquerade(c1, { backend: "nftables", executor: commandExecutor() });
      });
    } finally {
      ns.close();
    }
    const rules = fw.nftTable("inet", "cni_plugins_masquerade")!.filter((entry) => entry.rule?.chain === "masq_checks");
    expect(rules).toHaveLength(1);
  });
});
