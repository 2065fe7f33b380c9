import { execFileSync, spawn } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall } from "../../helpers/cni.ts";
import { createNetns, ipJson, linkExists, linkGoneWithin, type TestNetns } from "../../helpers/netns.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { addPtpContainer, createPtpNetwork, globalAddresses, routeLines, type PtpNetwork } from "./harness.ts";

function natRulesMentioning(containerId: string): string[] {
  return ["iptables-save", "ip6tables-save"]
    .flatMap((tool) => execFileSync(tool, ["-t", "nat"], { encoding: "utf8" }).split("\n"))
    .filter((line) => line.includes(`id: \\"${containerId}\\"`));
}

function nftRulesMentioning(containerId: string): string[] {
  return execFileSync("nft", ["list", "ruleset"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(containerId));
}

describe("ptp with host-local, in real namespaces", () => {
  let network: PtpNetwork;
  const namespaces: TestNetns[] = [];

  beforeEach(() => {
    network = createPtpNetwork();
  });
  afterEach(() => {
    for (const netns of namespaces.splice(0)) netns.remove();
    network.cleanup();
  });

  it("connects two dual-stack containers that ping each other and the host both ways", () => {
    const a = addPtpContainer(network, namespaces);
    const b = addPtpContainer(network, namespaces);
    for (const [from, to] of [[a, b], [b, a]] as const) {
      from.netns.exec(["ping", "-c", "1", "-W", "2", to.v4]);
      from.netns.exec(["ping", "-6", "-c", "1", "-W", "2", to.v6!]);
      from.netns.exec(["ping", "-c", "1", "-W", "2", network.gateway(4)]);
      from.netns.exec(["ping", "-6", "-c", "1", "-W", "2", network.gateway(6)]);
      execFileSync("ping", ["-c", "1", "-W", "2", from.v4]);
      execFileSync("ping", ["-6", "-c", "1", "-W", "2", from.v6!]);
    }
    expect(a.call("DEL").status).toBe(0);
    expect(b.call("DEL").status).toBe(0);
  });

  it("returns the host veth and the container veth with MACs, and the addresses with their gateways", () => {
    const c = addPtpContainer(network, namespaces, network.config({ mtu: 1400, dns: { nameservers: ["192.0.2.53"], search: ["example.org"] } }));
    const { v4Prefix, v6Prefix } = network.subnets;
    expect(c.result).toEqual({
      cniVersion: "1.0.0",
      interfaces: [
        { name: expect.stringMatching(/^veth[0-9a-f]{8}$/), mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) },
        { name: "eth0", mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/), sandbox: c.netns.path },
      ],
      ips: [
        { interface: 1, address: `${v4Prefix}.2/24`, gateway: `${v4Prefix}.1` },
        { interface: 1, address: `${v6Prefix}::2/64`, gateway: `${v6Prefix}::1` },
      ],
      routes: [{ dst: "0.0.0.0/0" }, { dst: "::/0" }],
      dns: { nameservers: ["192.0.2.53"], search: ["example.org"] },
    });
    const [eth0] = ipJson<{ address: string; mtu: number; operstate: string }[]>(["link", "show", "dev", "eth0"], c.netns.name);
    expect(eth0).toMatchObject({ address: c.result.interfaces[1].mac, mtu: 1400, operstate: "UP" });
    const [hostEnd] = ipJson<{ address: string; mtu: number; operstate: string }[]>(["link", "show", "dev", c.hostVeth]);
    expect(hostEnd).toMatchObject({ address: c.result.interfaces[0].mac, mtu: 1400, operstate: "UP" });
  });

  it("routes the container's subnet via the gateway, and the host routes each container address to its veth", () => {
    const c = addPtpContainer(network, namespaces);
    const { v4Prefix, v6Prefix } = network.subnets;
    expect(globalAddresses("eth0", c.netns.name)).toEqual([`${v4Prefix}.2/24`, `${v6Prefix}::2/64`]);
    expect(routeLines(c.netns)).toEqual(
      [
        `default via ${v4Prefix}.1 dev eth0`,
        `${v4Prefix}.0/24 via ${v4Prefix}.1 dev eth0 src ${v4Prefix}.2`,
        `${v4Prefix}.1 dev eth0 scope link src ${v4Prefix}.2`,
        `${v6Prefix}::1 dev eth0 src ${v6Prefix}::2 metric 1024 pref medium`,
        `${v6Prefix}::/64 via ${v6Prefix}::1 dev eth0 src ${v6Prefix}::2 metric 1024 pref medium`,
        `default via ${v6Prefix}::1 dev eth0 metric 1024 pref medium`,
      ].sort(),
    );
    expect(globalAddresses(c.hostVeth)).toEqual([`${v4Prefix}.1/32`, `${v6Prefix}::1/128`]);
    expect(routeLines(undefined, c.hostVeth)).toEqual(
      [`${v4Prefix}.2 scope host`, `${v6Prefix}::1 proto kernel metric 256 pref medium`, `${v6Prefix}::2 metric 1024 pref medium`].sort(),
    );
  });

  it("DEL removes the veth pair, its host routes and the leases, and a second DEL succeeds", () => {
    const c = addPtpContainer(network, namespaces);
    expect(network.leases()).toHaveLength(2);
    expect(c.call("DEL").status).toBe(0);
    expect(linkExists(c.hostVeth)).toBe(false);
    expect(linkExists("eth0", c.netns.name)).toBe(false);
    expect(routeLines(undefined).filter((line) => line.startsWith(c.v4) || line.startsWith(c.v6!))).toEqual([]);
    expect(network.leases()).toEqual([]);
    const again = c.call("DEL");
    expect(again.status).toBe(0);
    expect(again.stdout).toBe("");
  });

  it.each(["iptables", "nftables"] as const)("ipMasq with %s masquerades the container and DEL removes the rules", (backend) => {
    const c = addPtpContainer(network, namespaces, network.config({ ipMasq: true, ipMasqBackend: backend }));
    const rules = () => (backend === "iptables" ? natRulesMentioning(c.id) : nftRulesMentioning(c.id));
    expect(rules().length).toBeGreaterThan(0);
    if (backend === "iptables") expect(rules().join("\n")).toContain(`-s ${c.v4}/32`);
    mustCall("ptp", { command: "CHECK", containerId: c.id, netns: c.netns.path, ifname: "eth0", config: { ...c.config, prevResult: c.result } });
    expect(c.call("DEL").status).toBe(0);
    expect(rules()).toEqual([]);
  });

  it("DEL after the namespace is deleted releases the leases and the masquerading", () => {
    const c = addPtpContainer(network, namespaces, network.config({ ipMasq: true }));
    c.netns.remove();
    expect(c.call("DEL", { config: { ...c.config, prevResult: c.result } }).status).toBe(0);
    expect(network.leases()).toEqual([]);
    expect(natRulesMentioning(c.id)).toEqual([]);
    expect(linkGoneWithin(c.hostVeth, 10_000)).toBe(true);
  });

  it("DEL without CNI_NETNS, while a process still holds the namespace, deletes the host veth prevResult lists", () => {
    const c = addPtpContainer(network, namespaces, network.config({ ipMasq: true }));
    const holder = spawn("ip", ["netns", "exec", c.netns.name, "sleep", "60"], { stdio: "ignore" });
    try {
      c.netns.exec(["true"]); // the holder has entered the namespace once the next exec runs
      execFileSync("sleep", ["0.3"]);
      c.netns.remove();
      expect(linkExists(c.hostVeth)).toBe(true);
      expect(c.call("DEL", { netns: undefined, config: { ...c.config, prevResult: c.result } }).status).toBe(0);
      expect(linkExists(c.hostVeth)).toBe(false);
      expect(network.leases()).toEqual([]);
      expect(natRulesMentioning(c.id)).toEqual([]);
    } finally {
      holder.kill();
    }
  });

  it("CHECK passes after ADD and finds a removed host route, gateway address or container route (104)", () => {
    const check = (c: ReturnType<typeof addPtpContainer>) => c.call("CHECK", { config: { ...c.config, prevResult: c.result } });
    type Container = ReturnType<typeof addPtpContainer>;
    const damages: [string, (c: Container) => void, (c: Container) => string][] = [
      ["host route", (c) => execFileSync("ip", ["route", "del", `${c.v4}/32`, "dev", c.hostVeth]), (c) => `host route to ${c.v4}/32`],
      ["gateway on the host end", (c) => execFileSync("ip", ["-6", "addr", "del", `${network.gateway(6)}/128`, "dev", c.hostVeth]), () => `gateway address ${network.gateway(6)}/128`],
      ["container route to the gateway", (c) => c.netns.exec(["ip", "route", "del", `${network.gateway(4)}/32`]), () => `${network.gateway(4)}/32`],
      ["container default route", (c) => c.netns.exec(["ip", "-6", "route", "del", "default"]), () => "::/0"],
    ];
    for (const [what, damage, named] of damages) {
      const c = addPtpContainer(network, namespaces);
      expect(check(c).status, what).toBe(0);
      damage(c);
      const outcome = check(c);
      expect(outcome.json, what).toMatchObject({ code: 104 });
      expect(outcome.json.msg, what).toContain(named(c));
      expect(c.call("DEL").status).toBe(0);
    }
  });

  it("speaks spec 0.2.0: the result carries ip4 and ip6", () => {
    const netns = createNetns("pt");
    namespaces.push(netns);
    const call = { containerId: uniqueName("ptc"), netns: netns.path, ifname: "eth0", config: network.config({}, "0.2.0") };
    const result = mustCall("ptp", { ...call, command: "ADD" }).json;
    expect(result.ip4).toEqual({ ip: `${network.subnets.v4Prefix}.2/24`, gateway: network.gateway(4), routes: [{ dst: "0.0.0.0/0" }] });
    expect(result.ip6).toEqual({ ip: `${network.subnets.v6Prefix}::2/64`, gateway: network.gateway(6), routes: [{ dst: "::/0" }] });
    mustCall("ptp", { ...call, command: "DEL" });
    expect(network.leases()).toEqual([]);
  });

  it("STATUS and GC answer for the network", () => {
    const c = addPtpContainer(network, namespaces, network.config({ ipMasq: true }, "1.1.0"));
    const config = { ...c.config };
    expect(callPlugin("ptp", { command: "STATUS", config }).status).toBe(0);
    const gc = callPlugin("ptp", { command: "GC", config: { ...config, "cni.dev/valid-attachments": [] } });
    expect(gc.status, gc.stdout).toBe(0);
    expect(network.leases()).toEqual([]);
    expect(natRulesMentioning(c.id)).toEqual([]);
  });
});

