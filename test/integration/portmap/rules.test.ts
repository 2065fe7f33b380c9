import { execFileSync } from "node:child_process";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { formatChainName } from "../../../lib/firewall/names.ts";
import { callPlugin } from "../../helpers/cni.ts";
import { useHostTopology } from "./host.ts";
import {
  freePort,
  hostNatLines,
  hostNftRulesOf,
  hostNftTable,
  portmap,
  portmapConfig,
  type Container,
  type Mapping,
  type Topology,
} from "./topology.ts";

type Backend = "iptables" | "nftables";

/**
 * What our portmap writes in the host namespace and how it checks and removes it, for both
 * backends. The expected rules are written out by hand from the reference's layout (and, for
 * iptables, from what /usr/lib/cni/portmap wrote for the same request: see reference.test.ts).
 */
describe.each(["iptables", "nftables"] as const)("portmap rules with %s", (backend: Backend) => {
  const host = useHostTopology();
  let topology: Topology;
  const newContainer = () => host.newContainer();

  beforeAll(() => {
    topology = host.topology();
  });
  afterEach(() => host.removeContainers());

  function configFor(container: Container | undefined, mappings: Mapping[], extra: Record<string, unknown> = {}) {
    return portmapConfig(topology.network, mappings, { backend, ...extra }, container?.result);
  }

  /** Every rule line of the host's nat tables that mentions the container, per family. */
  function iptablesRulesOf(container: Container): string[][] {
    const chain = formatChainName(topology.network.name, container.id, "DN-");
    return ([4, 6] as const).map((family) => hostNatLines(family).filter((line) => line.includes(chain) || line.includes(`id: \\"${container.id}\\"`)));
  }

  function nftRulesOf(container: Container): [string, unknown][][] {
    return [hostNftRulesOf("ip", container.id), hostNftRulesOf("ip6", container.id)];
  }

  const rulesOf = (container: Container) => (backend === "iptables" ? iptablesRulesOf(container) : nftRulesOf(container));

  it("writes exactly the reference's rules for the container, in both families", () => {
    const c = newContainer();
    const [web, dns] = [freePort(), freePort()];
    const outcome = portmap("ADD", c, configFor(c, [
      { hostPort: web, containerPort: 80, protocol: "tcp" },
      { hostPort: dns, containerPort: 53, protocol: "udp" },
    ]));
    expect(outcome.status).toBe(0);
    const subnet4 = `${topology.network.subnets.v4Prefix}.0/24`;
    const subnet6 = `${topology.network.subnets.v6Prefix}::/64`;

    if (backend === "iptables") {
      const chain = formatChainName(topology.network.name, c.id, "DN-");
      const comment = `-m comment --comment "dnat name: \\"${topology.network.name}\\" id: \\"${c.id}\\""`;
      // iptables-save lists chains by name, so CNI-DN-* comes before CNI-HOSTPORT-DNAT.
      expect(iptablesRulesOf(c)).toEqual([
        [
          `:${chain} - [0:0]`,
          `-A ${chain} -s ${subnet4} -p tcp -m tcp --dport ${web} -j CNI-HOSTPORT-SETMARK`,
          `-A ${chain} -s 127.0.0.1/32 -p tcp -m tcp --dport ${web} -j CNI-HOSTPORT-SETMARK`,
          `-A ${chain} -p tcp -m tcp --dport ${web} -j DNAT --to-destination ${c.v4}:80`,
          `-A ${chain} -s ${subnet4} -p udp -m udp --dport ${dns} -j CNI-HOSTPORT-SETMARK`,
          `-A ${chain} -s 127.0.0.1/32 -p udp -m udp --dport ${dns} -j CNI-HOSTPORT-SETMARK`,
          `-A ${chain} -p udp -m udp --dport ${dns} -j DNAT --to-destination ${c.v4}:53`,
          `-A CNI-HOSTPORT-DNAT -p tcp ${comment} -m multiport --dports ${web} -j ${chain}`,
          `-A CNI-HOSTPORT-DNAT -p udp ${comment} -m multiport --dports ${dns} -j ${chain}`,
        ],
        [
          `:${chain} - [0:0]`,
          `-A ${chain} -s ${subnet6} -p tcp -m tcp --dport ${web} -j CNI-HOSTPORT-SETMARK`,
          `-A ${chain} -p tcp -m tcp --dport ${web} -j DNAT --to-destination [${c.v6}]:80`,
          `-A ${chain} -s ${subnet6} -p udp -m udp --dport ${dns} -j CNI-HOSTPORT-SETMARK`,
          `-A ${chain} -p udp -m udp --dport ${dns} -j DNAT --to-destination [${c.v6}]:53`,
          `-A CNI-HOSTPORT-DNAT -p tcp ${comment} -m multiport --dports ${web} -j ${chain}`,
          `-A CNI-HOSTPORT-DNAT -p udp ${comment} -m multiport --dports ${dns} -j ${chain}`,
        ],
      ]);
      for (const family of [4, 6] as const) {
        const shared = hostNatLines(family).filter((line) => line.includes("CNI-HOSTPORT") && !line.includes("CNI-DN-"));
        expect(shared.sort()).toEqual(
          [
            ":CNI-HOSTPORT-DNAT - [0:0]",
            ":CNI-HOSTPORT-MASQ - [0:0]",
            ":CNI-HOSTPORT-SETMARK - [0:0]",
            "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
            '-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000',
            "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
            '-A POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
            "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
          ].sort(),
        );
      }
      // First in POSTROUTING, ahead of the masquerade rules bridge appends.
      expect(hostNatLines(4).find((line) => line.startsWith("-A POSTROUTING"))).toContain("CNI-HOSTPORT-MASQ");
    } else {
      const match = (protocol: string, field: string, right: unknown) => ({ match: { op: "==", left: { payload: { protocol, field } }, right } });
      expect(nftRulesOf(c)).toEqual([
        [
          ["hostports", [match("tcp", "dport", web), { dnat: { addr: c.v4, port: 80 } }]],
          ["hostports", [match("udp", "dport", dns), { dnat: { addr: c.v4, port: 53 } }]],
          ["masquerading", [match("ip", "saddr", c.v4), match("ip", "daddr", c.v4), { masquerade: null }]],
          ["masquerading", [match("ip", "saddr", "127.0.0.1"), match("ip", "daddr", c.v4), { masquerade: null }]],
        ],
        [
          ["hostports", [match("tcp", "dport", web), { dnat: { addr: c.v6, port: 80 } }]],
          ["hostports", [match("udp", "dport", dns), { dnat: { addr: c.v6, port: 53 } }]],
          ["masquerading", [match("ip6", "saddr", c.v6), match("ip6", "daddr", c.v6), { masquerade: null }]],
        ],
      ]);
      for (const family of ["ip", "ip6"] as const) {
        const chains = hostNftTable(family)!.filter((entry) => entry.chain).map((entry) => entry.chain!);
        expect(chains.map(({ name, type, hook, prio }) => ({ name, type, hook, prio }))).toEqual([
          { name: "hostports", type: undefined, hook: undefined, prio: undefined },
          { name: "hostip_hostports", type: undefined, hook: undefined, prio: undefined },
          { name: "hostports_all", type: undefined, hook: undefined, prio: undefined },
          { name: "prerouting", type: "nat", hook: "prerouting", prio: -100 },
          { name: "output", type: "nat", hook: "output", prio: -100 },
          { name: "masquerading", type: "nat", hook: "postrouting", prio: 100 },
        ]);
      }
    }
  });

  it("changes nothing on a second ADD", () => {
    const c = newContainer();
    const config = configFor(c, [{ hostPort: freePort(), containerPort: 80 }]);
    portmap("ADD", c, config);
    const once = rulesOf(c);
    expect(portmap("ADD", c, config).status).toBe(0);
    expect(rulesOf(c)).toEqual(once);
  });

  it("passes CHECK after ADD", () => {
    const c = newContainer();
    const config = configFor(c, [{ hostPort: freePort(), containerPort: 80 }, { hostPort: freePort(), containerPort: 53, protocol: "udp" }]);
    expect(portmap("ADD", c, config).status).toBe(0);
    const check = portmap("CHECK", c, config);
    expect(check.stdout).toBe("");
    expect(check.status).toBe(0);
  });

  it("fails CHECK with code 104 naming the DNAT rule someone deleted by hand", () => {
    const c = newContainer();
    const port = freePort();
    const config = configFor(c, [{ hostPort: port, containerPort: 80 }]);
    portmap("ADD", c, config);
    if (backend === "iptables") {
      const chain = formatChainName(topology.network.name, c.id, "DN-");
      execFileSync("iptables", ["-t", "nat", "-D", chain, "-p", "tcp", "-m", "tcp", "--dport", String(port), "-j", "DNAT", "--to-destination", `${c.v4}:80`]);
    } else {
      const rule = hostNftTable("ip")!.find((entry) => entry.rule?.comment === c.id && entry.rule.chain === "hostports")!;
      execFileSync("nft", ["delete", "rule", "ip", "cni_hostport", "hostports", "handle", String(rule.rule!.handle)]);
    }
    const check = portmap("CHECK", c, config);
    expect(check.status).toBe(1);
    expect(check.json.code).toBe(104);
    const missing =
      backend === "iptables"
        ? `missing rule "-A ${formatChainName(topology.network.name, c.id, "DN-")} -p tcp -m tcp --dport ${port} -j DNAT --to-destination ${c.v4}:80" in iptables table nat`
        : `missing rule "tcp dport == ${port} dnat to ${c.v4}:80" comment "${c.id}" in chain ip cni_hostport hostports`;
    expect(check.json.msg).toContain(missing);
  });

  it("DEL removes exactly this container's rules, keeps a neighbour's, and succeeds again", () => {
    const [c, other] = [newContainer(), newContainer()];
    const config = configFor(c, [{ hostPort: freePort(), containerPort: 80 }]);
    portmap("ADD", c, config);
    portmap("ADD", other, configFor(other, [{ hostPort: freePort(), containerPort: 80 }]));
    const others = rulesOf(other);
    expect(portmap("DEL", c, config).status).toBe(0);
    expect(rulesOf(c)).toEqual([[], []]);
    expect(rulesOf(other)).toEqual(others);
    const again = portmap("DEL", c, config);
    expect([again.status, again.stdout]).toEqual([0, ""]);
  });

  it("DEL without prevResult still finds and removes the rules", () => {
    const c = newContainer();
    const mappings = [{ hostPort: freePort(), containerPort: 80 }];
    portmap("ADD", c, configFor(c, mappings));
    expect(rulesOf(c)).not.toEqual([[], []]);
    expect(portmap("DEL", c, configFor(undefined, mappings)).status).toBe(0);
    expect(rulesOf(c)).toEqual([[], []]);
  });

  it("DEL without portMappings removes the rules ADD made (the reference leaves them)", () => {
    const c = newContainer();
    portmap("ADD", c, configFor(c, [{ hostPort: freePort(), containerPort: 80 }]));
    expect(rulesOf(c)).not.toEqual([[], []]);
    expect(portmap("DEL", c, configFor(c, [])).status).toBe(0);
    expect(rulesOf(c)).toEqual([[], []]);
  });

  it("fails ADD and CHECK without prevResult with code 7", () => {
    const c = newContainer();
    for (const command of ["ADD", "CHECK"] as const) {
      const outcome = portmap(command, c, configFor(undefined, [{ hostPort: freePort(), containerPort: 80 }]));
      expect(outcome.status).toBe(1);
      expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringContaining("prevResult=(missing)") });
    }
    expect(rulesOf(c)).toEqual([[], []]);
  });

  it.each([
    [[{ hostPort: 0, containerPort: 80 }], {}, "runtimeConfig.portMappings[0].hostPort=0"],
    [[{ hostPort: 70000, containerPort: 80 }], {}, "runtimeConfig.portMappings[0].hostPort=70000"],
    [[{ hostPort: 8080, containerPort: 80, protocol: "icmp" }], {}, 'runtimeConfig.portMappings[0].protocol="icmp"'],
    [[{ hostPort: 8080, containerPort: 80, hostIP: "1.2.3" }], {}, 'runtimeConfig.portMappings[0].hostIP="1.2.3"'],
    [[{ hostPort: 8080, containerPort: 80 }], { markMasqBit: 40 }, "markMasqBit=40"],
    [[{ hostPort: 8080, containerPort: 80 }], { markMasqBit: 13, externalSetMarkChain: "KUBE-MARK-MASQ", backend: "iptables" }, 'externalSetMarkChain="KUBE-MARK-MASQ"'],
  ] as const)("refuses %j %j with code 7 naming %s, leaving nothing behind", (mappings, extra, field) => {
    const c = newContainer();
    const outcome = portmap("ADD", c, configFor(c, [...mappings], extra));
    expect(outcome.status).toBe(1);
    expect(outcome.json).toMatchObject({ code: 7, msg: expect.stringContaining(`invalid config: ${field}`) });
    expect(rulesOf(c)).toEqual([[], []]);
  });

  it(
    backend === "iptables"
      ? "GC removes the rules of containers that are no longer valid, on this network only"
      : "GC leaves the rules alone: they name the container but not the network (as the reference's)",
    () => {
      const [kept, stale] = [newContainer(), newContainer()];
      for (const c of [kept, stale]) portmap("ADD", c, configFor(c, [{ hostPort: freePort(), containerPort: 80 }]));
      const before = [rulesOf(kept), rulesOf(stale)];
      const gc = callPlugin("portmap", {
        command: "GC",
        config: { cniVersion: "1.1.0", name: topology.network.name, type: "portmap", backend, "cni.dev/valid-attachments": [{ containerID: kept.id, ifname: "eth0" }] },
      });
      expect([gc.status, gc.stdout]).toEqual([0, ""]);
      expect(rulesOf(kept)).toEqual(before[0]);
      expect(rulesOf(stale)).toEqual(backend === "iptables" ? [[], []] : before[1]);
    },
  );
});
