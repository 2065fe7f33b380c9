import { describe, expect, it } from "vitest";
import { parseIptablesSave } from "../../../lib/firewall/iptables/save.ts";
import {
  dnatChainName,
  iptablesPortMap,
  markDefinition,
  portmapChain,
  portmapOwners,
  portmapSetupScript,
  portmapTeardownScript,
  sharedChains,
} from "../../../lib/firewall/portmap/iptables.ts";
import type { PortMapping, PortMapRequest, PortMapSettings } from "../../../lib/firewall/portmap/types.ts";
import { FakeExecutor } from "../firewall/fake-executor.ts";
import { requestWith, V4, V6 } from "./request.ts";

// Chain names and expected lines were taken from what /usr/lib/cni/portmap (1.1.1) wrote for the
// same request, as iptables-save printed them.
const CHAIN = "CNI-DN-5145007e2a8415ce07579"; // formatChainName("mynet", "ctr1", "DN-")
const COMMENT = '"dnat name: \\"mynet\\" id: \\"ctr1\\""';
const EMPTY_NAT = "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\nCOMMIT\n";
function request(overrides: Partial<PortMapRequest> = {}, settings: Partial<PortMapSettings> = {}): PortMapRequest {
  const mappings: PortMapping[] = [
    { hostPort: 8080, containerPort: 80, protocol: "tcp" },
    { hostPort: 5353, containerPort: 53, protocol: "udp" },
  ];
  return requestWith(mappings, overrides, settings);
}

/** The restore script's lines between "*nat" and "COMMIT". */
function setupLines(req: PortMapRequest, address = V4, saved = EMPTY_NAT): string[] {
  const script = portmapSetupScript(parseIptablesSave(saved, "nat"), sharedChains(req.settings), portmapChain(req, address));
  return script.text().split("\n").slice(1, -2);
}

describe("iptables port mapping scripts", () => {
  it("names the chain and marks as the reference does", () => {
    expect(dnatChainName({ network: "mynet", containerId: "ctr1" })).toBe(CHAIN);
    expect(markDefinition(13)).toBe("0x2000/0x2000");
    expect(markDefinition(0)).toBe("0x1/0x1");
    expect(markDefinition(31)).toBe("0x80000000/0x80000000");
  });

  it("sets up an IPv4 container on an empty table exactly as the reference", () => {
    expect(setupLines(request())).toEqual([
      "-N CNI-HOSTPORT-SETMARK",
      "-N CNI-HOSTPORT-MASQ",
      "-N CNI-HOSTPORT-DNAT",
      `:${CHAIN} - [0:0]`,
      `-A ${CHAIN} -s 10.1.2.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:80`,
      `-A ${CHAIN} -s 10.1.2.0/24 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -s 127.0.0.1/32 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -p udp -m udp --dport 5353 -j DNAT --to-destination 10.1.2.3:53`,
      '-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000',
      "-A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE",
      '-I POSTROUTING 1 -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ',
      "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
      "-A OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT",
      `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 -j ${CHAIN}`,
      `-A CNI-HOSTPORT-DNAT -p udp -m comment --comment ${COMMENT} -m multiport --dports 5353 -j ${CHAIN}`,
    ]);
  });

  it("has no localhost rule for IPv6, and brackets (quoted in the script) around IPv6 DNAT targets", () => {
    expect(setupLines(request(), V6).filter((line) => line.startsWith(`-A ${CHAIN}`))).toEqual([
      `-A ${CHAIN} -s fd00:1::/64 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination "[fd00:1::3]:80"`,
      `-A ${CHAIN} -s fd00:1::/64 -p udp -m udp --dport 5353 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -p udp -m udp --dport 5353 -j DNAT --to-destination "[fd00:1::3]:53"`,
    ]);
  });

  it("forwards a hostIP mapping only in its family, from that address, yet lists its port in every family's entry rule", () => {
    const req = request({
      mappings: [
        { hostPort: 9090, containerPort: 90, protocol: "tcp", hostIP: "192.0.2.9" },
        { hostPort: 9092, containerPort: 92, protocol: "tcp", hostIP: "fd00::9" },
        { hostPort: 9093, containerPort: 93, protocol: "tcp", hostIP: "0.0.0.0" },
      ],
    });
    const v4 = setupLines(req).filter((line) => line.includes(CHAIN) && !line.startsWith(":"));
    expect(v4).toEqual([
      `-A ${CHAIN} -s 10.1.2.0/24 -d 192.0.2.9/32 -p tcp -m tcp --dport 9090 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -s 127.0.0.1/32 -d 192.0.2.9/32 -p tcp -m tcp --dport 9090 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -d 192.0.2.9/32 -p tcp -m tcp --dport 9090 -j DNAT --to-destination 10.1.2.3:90`,
      `-A ${CHAIN} -s 10.1.2.0/24 -p tcp -m tcp --dport 9093 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -s 127.0.0.1/32 -p tcp -m tcp --dport 9093 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -p tcp -m tcp --dport 9093 -j DNAT --to-destination 10.1.2.3:93`,
      `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 9090,9092,9093 -j ${CHAIN}`,
    ]);
    const v6 = setupLines(req, V6).filter((line) => line.startsWith(`-A ${CHAIN}`));
    expect(v6).toEqual([
      `-A ${CHAIN} -s fd00:1::/64 -d fd00::9/128 -p tcp -m tcp --dport 9092 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -d fd00::9/128 -p tcp -m tcp --dport 9092 -j DNAT --to-destination "[fd00:1::3]:92"`,
    ]);
  });

  it("orders protocols alphabetically and splits more than 15 ports of one protocol", () => {
    const mappings = Array.from({ length: 17 }, (_, index) => ({ hostPort: 10000 + index, containerPort: 80, protocol: "tcp" as const }));
    const entries = setupLines(request({ mappings: [{ hostPort: 99, containerPort: 99, protocol: "udp" }, ...mappings, { hostPort: 98, containerPort: 98, protocol: "sctp" }] })).filter(
      (line) => line.startsWith("-A CNI-HOSTPORT-DNAT"),
    );
    expect(entries.map((line) => /-p (\w+) .*--dports (\S+)/.exec(line)!.slice(1))).toEqual([
      ["sctp", "98"],
      ["tcp", mappings.slice(0, 15).map((m) => m.hostPort).join(",")],
      ["tcp", "10015,10016"],
      ["udp", "99"],
    ]);
  });

  it("writes each identical rule once, as the reference's insert-unless-present does", () => {
    const req = request({
      mappings: [
        { hostPort: 8080, containerPort: 80, protocol: "tcp" },
        { hostPort: 8080, containerPort: 81, protocol: "tcp" },
      ],
    });
    expect(setupLines(req).filter((line) => line.startsWith(`-A ${CHAIN}`))).toEqual([
      `-A ${CHAIN} -s 10.1.2.0/24 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:80`,
      `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:81`,
    ]);
  });

  it("masquerades every source with masqAll (and needs no localhost rule)", () => {
    const lines = setupLines(request({ mappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] }, { masqAll: true }));
    expect(lines.filter((line) => line.startsWith(`-A ${CHAIN}`))).toEqual([
      `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK`,
      `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:80`,
    ]);
  });

  it("marks nothing and makes no masquerade chains without snat", () => {
    const lines = setupLines(request({ mappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] }, { snat: false }));
    expect(lines).not.toContainEqual(expect.stringMatching(/SETMARK|MASQ/));
    expect(lines).toContain(`-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:80`);
  });

  it("jumps to an external mark chain and makes neither SETMARK nor MASQ", () => {
    const lines = setupLines(request({ mappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] }, { externalSetMarkChain: "KUBE-MARK-MASQ" }));
    expect(lines).not.toContainEqual(expect.stringMatching(/CNI-HOSTPORT-(SETMARK|MASQ)/));
    expect(lines).toContain(`-A ${CHAIN} -s 10.1.2.0/24 -p tcp -m tcp --dport 8080 -j KUBE-MARK-MASQ`);
  });

  it("uses another mark bit", () => {
    const lines = setupLines(request({}, { markMasqBit: 5 }));
    expect(lines).toContain('-A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x20/0x20');
    expect(lines).toContain("-A CNI-HOSTPORT-MASQ -m mark --mark 0x20/0x20 -j MASQUERADE");
  });

  it("puts the family's conditions after the multiport match, as the reference", () => {
    const lines = setupLines(request({ mappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] }, { conditionsV4: ["!", "-d", "192.0.2.0/24"] }));
    expect(lines).toContain(`-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 ! -d 192.0.2.0/24 -j ${CHAIN}`);
  });

  it("writes only the container's chain when the shared chains are in place, and nothing when all is", () => {
    const req = request();
    const shared = sharedChains(req.settings);
    const withShared = [
      "*nat",
      ":PREROUTING ACCEPT [0:0]",
      ":OUTPUT ACCEPT [0:0]",
      ":POSTROUTING ACCEPT [0:0]",
      ...shared.chains.map((chain) => `:${chain} - [0:0]`),
      ...shared.rules.map((rule) => `-A ${rule.chain} ${rule.args.map((arg) => (arg.includes(" ") ? `"${arg}"` : arg)).join(" ")}`),
      "COMMIT",
      "",
    ].join("\n");
    const lines = setupLines(req, V4, withShared);
    expect(lines[0]).toBe(`:${CHAIN} - [0:0]`);
    expect(lines.filter((line) => !line.includes(CHAIN))).toEqual([]);

    const complete = withShared.replace("COMMIT", `${lines.join("\n")}\nCOMMIT`);
    expect(setupLines(req, V4, complete)).toEqual([]);
  });

  it("replaces an entry rule of an earlier setup with other ports", () => {
    const saved = `*nat\n:CNI-HOSTPORT-DNAT - [0:0]\n:${CHAIN} - [0:0]\n-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 7070 -j ${CHAIN}\nCOMMIT\n`;
    const lines = setupLines(request({ mappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] }), V4, saved);
    expect(lines).toContain(`-D CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 7070 -j ${CHAIN}`);
    expect(lines).toContain(`-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 -j ${CHAIN}`);
  });

  it("tears down the container's chain, whatever leads into it, and the old SN- chain; nothing else", () => {
    const saved = [
      "*nat",
      ":CNI-HOSTPORT-DNAT - [0:0]",
      `:${CHAIN} - [0:0]`,
      ":CNI-DN-0000000000000000000000 - [0:0]",
      `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 -j ${CHAIN}`,
      "-A CNI-HOSTPORT-DNAT -p tcp -m multiport --dports 9 -j CNI-DN-0000000000000000000000",
      `-A ${CHAIN} -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:80`,
      "COMMIT",
      "",
    ].join("\n");
    const text = portmapTeardownScript(parseIptablesSave(saved, "nat"), { network: "mynet", containerId: "ctr1" }).text();
    expect(text.split("\n").slice(1, -2)).toEqual([
      `-D CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 -j ${CHAIN}`,
      `-F ${CHAIN}`,
      `-X ${CHAIN}`,
    ]);
    expect(portmapTeardownScript(parseIptablesSave(EMPTY_NAT, "nat"), { network: "mynet", containerId: "ctr1" }).isEmpty).toBe(true);
  });

  it("finds a network's containers by their entry rules' comments, and only where the chain name matches", () => {
    const other = dnatChainName({ network: "other", containerId: "ctr2" });
    const saved = [
      "*nat",
      `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 -j ${CHAIN}`,
      `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"other\\" id: \\"ctr2\\"" -m multiport --dports 1 -j ${other}`,
      `-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \\"mynet\\" id: \\"forged\\"" -m multiport --dports 2 -j ${other}`,
      "COMMIT",
      "",
    ].join("\n");
    expect(portmapOwners(parseIptablesSave(saved, "nat"), "mynet")).toEqual(new Map([[CHAIN, "ctr1"]]));
  });

  it("CHECK names every missing piece, per family", () => {
    const executor = new FakeExecutor({ "iptables-save": { stdout: EMPTY_NAT }, "ip6tables-save": { stdout: EMPTY_NAT } });
    const req = request({ addresses: ["10.1.2.3/24"], mappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] });
    expect(() => iptablesPortMap(executor).check(req)).toThrow(
      expect.objectContaining({
        code: 104,
        message: expect.stringMatching(/^missing chain CNI-HOSTPORT-SETMARK in iptables table nat; .*rule "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT" in iptables table nat; .*chain CNI-DN-5145007e2a8415ce07579 in iptables table nat$/),
      }),
    );
    expect(executor.calls.map((call) => call.tool)).toEqual(["iptables-save"]);
  });

  it("CHECK asks iptables itself about entry rules with conditions, whose saved form only it knows", () => {
    const req = request({ addresses: ["10.1.2.3/24"], mappings: [{ hostPort: 8080, containerPort: 80, protocol: "tcp" }] }, { conditionsV4: ["!", "-d", "192.0.2.0/24"] });
    const chain = portmapChain(req, V4);
    const shared = sharedChains(req.settings);
    const quote = (args: readonly string[]) => args.map((arg) => (/[ "]/.test(arg) ? `"${arg.replaceAll('"', '\\"')}"` : arg)).join(" ");
    const saved = [
      "*nat",
      ...shared.chains.map((name) => `:${name} - [0:0]`),
      `:${chain.name} - [0:0]`,
      ...shared.rules.map((rule) => `-A ${rule.chain} ${quote(rule.args)}`),
      ...chain.rules.map((rule) => `-A ${chain.name} ${quote(rule)}`),
      `-A CNI-HOSTPORT-DNAT ! -d 192.0.2.0/24 -p tcp -m comment --comment ${COMMENT} -m multiport --dports 8080 -j ${CHAIN}`,
      "COMMIT",
      "",
    ].join("\n");
    const executor = new FakeExecutor({ "iptables-save": { stdout: saved }, iptables: { status: 0 } });
    expect(() => iptablesPortMap(executor).check(req)).not.toThrow();
    expect(executor.calls.find((call) => call.tool === "iptables")?.args).toEqual(["-w", "-t", "nat", "-C", "CNI-HOSTPORT-DNAT", ...chain.entries[0]!.args]);

    const absent = new FakeExecutor({ "iptables-save": { stdout: saved }, iptables: { status: 1 } });
    expect(() => iptablesPortMap(absent).check(req)).toThrow(expect.objectContaining({ code: 104, message: expect.stringContaining("-A CNI-HOSTPORT-DNAT -p tcp") }));
  });

  it("plans the commit again when another process changed the table under it", () => {
    let saves = 0;
    const executor = new FakeExecutor({
      // The second reading shows the chain another ADD made meanwhile.
      "iptables-save": () => ({ stdout: saves++ === 0 ? EMPTY_NAT : EMPTY_NAT.replace("COMMIT", ":CNI-HOSTPORT-DNAT - [0:0]\nCOMMIT") }),
      "iptables-restore": (call) => (call.input!.includes("-N CNI-HOSTPORT-DNAT") ? { status: 1, stderr: "iptables-restore: line 4 failed: Chain already exists." } : {}),
    });
    iptablesPortMap(executor).setup(request({ addresses: ["10.1.2.3/24"] }));
    const scripts = executor.scripts("iptables-restore");
    expect(scripts).toHaveLength(2);
    expect(scripts[1]).not.toContain("-N CNI-HOSTPORT-DNAT");
    expect(scripts[1]).toContain("-N CNI-HOSTPORT-SETMARK");
  });

  it("gives up at once when the same plan fails again: the tool rejected the change itself", () => {
    const executor = new FakeExecutor({
      "iptables-save": { stdout: EMPTY_NAT },
      "iptables-restore": { status: 2, stderr: "iptables-restore v1.8.9 (nf_tables): Couldn't load match `nope'\nError occurred at line: 5" },
    });
    expect(() => iptablesPortMap(executor).setup(request({ addresses: ["10.1.2.3/24"] }))).toThrow(expect.objectContaining({ code: 101 }));
    expect(executor.scripts("iptables-restore")).toHaveLength(1);
  });
});
