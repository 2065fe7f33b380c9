import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkPortMappings, setupPortMappings, teardownPortMappings } from "../../../lib/firewall/index.ts";
import type { PortMapping, PortMapRequest, PortMapSettings } from "../../../lib/firewall/portmap/types.ts";
import { createFirewallNetns, type FirewallNetns } from "../firewall/firewall-netns.ts";

const DEFAULTS: PortMapSettings = { snat: true, masqAll: false, markMasqBit: 13, conditionsV4: [], conditionsV6: [] };
const MAPPINGS: PortMapping[] = [
  { hostPort: 8080, containerPort: 80, protocol: "tcp" },
  { hostPort: 5353, containerPort: 53, protocol: "udp" },
  { hostPort: 3868, containerPort: 3868, protocol: "sctp" },
  { hostPort: 9090, containerPort: 90, protocol: "tcp", hostIP: "192.0.2.9" },
  { hostPort: 9092, containerPort: 92, protocol: "tcp", hostIP: "fd00::9" },
  { hostPort: 9093, containerPort: 93, protocol: "tcp", hostIP: "::" },
  ...Array.from({ length: 16 }, (_, index) => ({ hostPort: 20000 + index, containerPort: 20000 + index, protocol: "tcp" as const })),
];

function request(settings: Partial<PortMapSettings>): PortMapRequest {
  return { network: "variants", containerId: "c1", addresses: ["10.61.0.2/24", "fd61::2/64"], mappings: MAPPINGS, settings: { ...DEFAULTS, ...settings } };
}

/**
 * Every option against the real tools, inside a namespace of the test's own: the rules go in,
 * CHECK finds each of them (so what we write is exactly what the tools print back), a second
 * setup changes nothing, and teardown leaves nothing of the container.
 */
describe.each([
  ["iptables", "defaults", {}],
  ["iptables", "masqAll", { masqAll: true }],
  ["iptables", "snat off", { snat: false }],
  ["iptables", "mark bit 0", { markMasqBit: 0 }],
  ["iptables", "mark bit 31", { markMasqBit: 31 }],
  ["iptables", "an external mark chain", { externalSetMarkChain: "MY-MARK" }],
  ["iptables", "conditions", { conditionsV4: ["!", "-d", "192.0.2.0/24"], conditionsV6: ["-m", "addrtype", "!", "--src-type", "LOCAL"] }],
  ["nftables", "defaults", {}],
  ["nftables", "masqAll", { masqAll: true }],
  ["nftables", "snat off", { snat: false }],
  ["nftables", "conditions", { conditionsV4: ["ip", "daddr", "!=", "192.0.2.0/24"], conditionsV6: ["ip6", "saddr", "!=", "{", "fd00::1,", "fd00::2", "}"] }],
] as const)("port mappings with %s, %s", (backend, _name, settings: Partial<PortMapSettings>) => {
  let fw: FirewallNetns;
  const options = () => ({ backend, executor: fw.executor });
  const state = () =>
    backend === "iptables"
      ? [fw.iptablesRules(4), fw.iptablesRules(6)]
      : // Without handles: every setup rewrites the entry chains (as the reference), which renumbers their rules.
        [fw.nftTable("ip", "cni_hostport"), fw.nftTable("ip6", "cni_hostport")].map((listing) =>
          listing?.filter((entry) => !entry.metainfo).map((entry) => JSON.stringify(entry).replace(/"handle":\d+,?/g, "")),
        );

  beforeEach(() => {
    fw = createFirewallNetns("pmv");
    if (settings.externalSetMarkChain) {
      for (const tool of ["iptables", "ip6tables"]) fw.exec([tool, "-t", "nat", "-N", settings.externalSetMarkChain]);
    }
  });
  afterEach(() => fw.ns.remove());

  it("sets up rules that CHECK finds, again identically, and tears them down", () => {
    setupPortMappings(request(settings), options());
    expect(() => checkPortMappings(request(settings), options())).not.toThrow();
    const once = state();
    setupPortMappings(request(settings), options());
    expect(state()).toEqual(once);

    teardownPortMappings({ network: "variants", containerId: "c1" }, options());
    if (backend === "iptables") {
      for (const family of [4, 6] as const) expect(fw.iptablesRules(family).filter((line) => line.includes("CNI-DN-"))).toEqual([]);
    } else {
      for (const family of ["ip", "ip6"]) expect(fw.nftTable(family, "cni_hostport")!.filter((entry) => entry.rule?.comment === "c1")).toEqual([]);
    }
  });
});
