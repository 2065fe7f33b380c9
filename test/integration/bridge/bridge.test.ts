import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, ipJson, linkExists, linkGoneWithin, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { uniqueName } from "../../helpers/tag.ts";

interface IpAddr {
  ifname: string;
  operstate: string;
  address: string;
  mtu: number;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}

function natRulesMentioning(containerId: string, tool = "iptables-save"): string[] {
  return execFileSync(tool, ["-t", "nat"], { encoding: "utf8" })
    .split("\n")
    .filter((line) => line.includes(`id: \\"${containerId}\\"`) || line.includes(`id: "${containerId}"`));
}

describe("bridge with host-local, in real namespaces", () => {
  let network: TestNetwork;
  const namespaces: TestNetns[] = [];

  function newContainer(): { netns: TestNetns; call: (command: PluginCall["command"], extra?: Partial<PluginCall>) => PluginCall } {
    const netns = createNetns();
    namespaces.push(netns);
    const containerId = uniqueName("c");
    return {
      netns,
      call: (command, extra = {}) => ({ command, containerId, netns: netns.path, ifname: "eth0", config: network.bridgeConfig(), ...extra }),
    };
  }

  beforeEach(() => {
    network = createTestNetwork();
  });
  afterEach(() => {
    for (const netns of namespaces.splice(0)) netns.remove();
    network.cleanup();
  });

  it("connects two dual-stack containers that ping each other both ways", () => {
    const a = newContainer();
    const b = newContainer();
    const resultA = mustCall("bridge", a.call("ADD")).json;
    const resultB = mustCall("bridge", b.call("ADD")).json;

    const addressOf = (result: any, family: 4 | 6) =>
      (result.ips as { address: string }[]).map((ip) => ip.address.split("/")[0]!).find((ip) => ip.includes(":") === (family === 6))!;
    expect(addressOf(resultA, 4)).not.toBe(addressOf(resultB, 4));

    for (const [from, to] of [[a, resultB], [b, resultA]] as const) {
      from.netns.exec(["ping", "-c", "1", "-W", "2", addressOf(to, 4)]);
      from.netns.exec(["ping", "-6", "-c", "1", "-W", "2", addressOf(to, 6)]);
    }
    mustCall("bridge", a.call("DEL"));
    mustCall("bridge", b.call("DEL"));
  });

  it("returns the bridge, the host veth and the container veth with MACs, and addresses via the gateway", () => {
    const c = newContainer();
    const result = mustCall("bridge", c.call("ADD")).json;
    expect(result.interfaces).toHaveLength(3);
    expect(result.interfaces[0]).toEqual({ name: network.bridge, mac: expect.stringMatching(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/) });
    expect(result.interfaces[1].name).toMatch(/^veth[0-9a-f]{8}$/);
    expect(result.interfaces[2]).toMatchObject({ name: "eth0", sandbox: c.netns.path });
    expect(result.ips).toEqual([
      { interface: 2, address: `${network.subnets.v4Prefix}.2/24`, gateway: `${network.subnets.v4Prefix}.1` },
      { interface: 2, address: expect.stringMatching(/\/64$/), gateway: `${network.subnets.v6Prefix}::1` },
    ]);
    const [eth0] = ipJson<IpAddr[]>(["addr", "show", "dev", "eth0"], c.netns.name);
    expect(eth0!.address).toBe(result.interfaces[2].mac);
    const bridgeAddresses = ipJson<IpAddr[]>(["addr", "show", "dev", network.bridge])[0]!.addr_info.map((a) => `${a.local}/${a.prefixlen}`);
    expect(bridgeAddresses).toContain(`${network.subnets.v4Prefix}.1/24`);
    expect(bridgeAddresses).toContain(`${network.subnets.v6Prefix}::1/64`);
    mustCall("bridge", c.call("DEL"));
  });

  it("DEL removes the host veth and the leases, and a second DEL succeeds", () => {
    const c = newContainer();
    const result = mustCall("bridge", c.call("ADD")).json;
    const hostVeth = result.interfaces[1].name;
    expect(linkExists(hostVeth)).toBe(true);
    expect(network.leases()).toHaveLength(2);
    mustCall("bridge", c.call("DEL"));
    expect(linkExists(hostVeth)).toBe(false);
    expect(linkExists("eth0", c.netns.name)).toBe(false);
    expect(network.leases()).toEqual([]);
    const again = callPlugin("bridge", c.call("DEL"));
    expect(again.status).toBe(0);
    expect(again.stdout).toBe("");
  });

  it("DEL after the namespace is deleted succeeds and releases the leases", () => {
    const c = newContainer();
    const result = mustCall("bridge", c.call("ADD")).json;
    c.netns.remove();
    expect(callPlugin("bridge", c.call("DEL")).status).toBe(0);
    expect(network.leases()).toEqual([]);
    expect(linkGoneWithin(result.interfaces[1].name, 10_000)).toBe(true);
  });

  it("DEL without CNI_NETNS releases the leases", () => {
    const c = newContainer();
    mustCall("bridge", c.call("ADD"));
    mustCall("bridge", c.call("DEL", { netns: undefined }));
    expect(network.leases()).toEqual([]);
    mustCall("bridge", c.call("DEL"));
  });

  it("CHECK passes after ADD and fails with code 104 once the container's default route is gone", () => {
    const c = newContainer();
    const config = network.bridgeConfig({ isDefaultGateway: true });
    const result = mustCall("bridge", c.call("ADD", { config })).json;
    mustCall("bridge", c.call("CHECK", { config: { ...config, prevResult: result } }));
    c.netns.exec(["ip", "route", "del", "default"]);
    const check = callPlugin("bridge", c.call("CHECK", { config: { ...config, prevResult: result } }));
    expect(check.status).toBe(1);
    expect(check.json.code).toBe(104);
    expect(check.json.msg).toContain("0.0.0.0/0");
    mustCall("bridge", c.call("DEL", { config: { ...config, prevResult: result } }));
  });

  it("CHECK fails with code 104 when the host veth has left the bridge", () => {
    const c = newContainer();
    const result = mustCall("bridge", c.call("ADD")).json;
    execFileSync("ip", ["link", "set", result.interfaces[1].name, "nomaster"]);
    const check = callPlugin("bridge", c.call("CHECK", { config: { ...network.bridgeConfig(), prevResult: result } }));
    expect(check.json).toMatchObject({ code: 104 });
    expect(check.json.msg).toContain("no longer a port");
    mustCall("bridge", c.call("DEL"));
  });

  it("isDefaultGateway adds default routes for both families via the bridge", () => {
    const c = newContainer();
    const result = mustCall("bridge", c.call("ADD", { config: network.bridgeConfig({ isDefaultGateway: true }) })).json;
    expect(result.routes).toEqual([
      { dst: "0.0.0.0/0", gw: `${network.subnets.v4Prefix}.1` },
      { dst: "::/0", gw: `${network.subnets.v6Prefix}::1` },
    ]);
    const v4 = ipJson<{ dst: string; gateway?: string }[]>(["-4", "route"], c.netns.name);
    expect(v4).toContainEqual(expect.objectContaining({ dst: "default", gateway: `${network.subnets.v4Prefix}.1` }));
    const v6 = ipJson<{ dst: string; gateway?: string }[]>(["-6", "route"], c.netns.name);
    expect(v6).toContainEqual(expect.objectContaining({ dst: "default", gateway: `${network.subnets.v6Prefix}::1` }));
    mustCall("bridge", c.call("DEL"));
  });

  it("lets one container join two networks that both route the default via their bridge", () => {
    const c = newContainer();
    const second = createTestNetwork();
    try {
      mustCall("bridge", c.call("ADD", { config: network.bridgeConfig({ isDefaultGateway: true }) }));
      mustCall("bridge", c.call("ADD", { ifname: "eth1", config: second.bridgeConfig({ isDefaultGateway: true }) }));
      const defaults = ipJson<{ dst: string; dev: string }[]>(["-4", "route", "show", "default"], c.netns.name);
      expect(defaults.map((route) => route.dev).sort()).toEqual(["eth0", "eth1"]);
      mustCall("bridge", c.call("DEL", { ifname: "eth1", config: second.bridgeConfig({ isDefaultGateway: true }) }));
      mustCall("bridge", c.call("DEL", { config: network.bridgeConfig({ isDefaultGateway: true }) }));
    } finally {
      second.cleanup();
    }
  });

  it("sets the container MAC from runtimeConfig, args.cni and CNI_ARGS, runtimeConfig first", () => {
    const cases: [Partial<PluginCall>, string][] = [
      [{ config: network.bridgeConfig({ runtimeConfig: { mac: "0a:58:00:00:00:01" }, args: { cni: { mac: "0a:58:00:00:00:02" } } }) }, "0a:58:00:00:00:01"],
      [{ config: network.bridgeConfig({ args: { cni: { mac: "0a:58:00:00:00:02" } } }), args: "IgnoreUnknown=1;MAC=0a:58:00:00:00:03" }, "0a:58:00:00:00:02"],
      // host-local, like the reference's, refuses CNI_ARGS keys it does not know without IgnoreUnknown.
      [{ args: "IgnoreUnknown=1;MAC=0a:58:00:00:00:03" }, "0a:58:00:00:00:03"],
    ];
    for (const [extra, mac] of cases) {
      const c = newContainer();
      const result = mustCall("bridge", c.call("ADD", extra)).json;
      expect(result.interfaces[2].mac).toBe(mac);
      expect(ipJson<IpAddr[]>(["link", "show", "eth0"], c.netns.name)[0]!.address).toBe(mac);
      mustCall("bridge", c.call("DEL", extra));
    }
  });

  it("applies mtu to both veth ends, and hairpin and isolation to the port", () => {
    const c = newContainer();
    const config = network.bridgeConfig({ mtu: 1400, hairpinMode: true, portIsolation: true });
    const result = mustCall("bridge", c.call("ADD", { config })).json;
    const hostVeth = result.interfaces[1].name;
    expect(ipJson<IpAddr[]>(["link", "show", "eth0"], c.netns.name)[0]!.mtu).toBe(1400);
    expect(ipJson<IpAddr[]>(["link", "show", hostVeth])[0]!.mtu).toBe(1400);
    const details = execFileSync("ip", ["-d", "link", "show", hostVeth], { encoding: "utf8" });
    expect(details).toContain("hairpin on");
    expect(details).toContain("isolated on");
    mustCall("bridge", c.call("DEL", { config }));
  });

  it("leaves the container interface down and takes no address with disableContainerInterface", () => {
    const c = newContainer();
    const { ipam: _, ...layer2 } = network.bridgeConfig({ disableContainerInterface: true });
    const result = mustCall("bridge", c.call("ADD", { config: layer2 })).json;
    expect(result.ips).toBeUndefined();
    expect(ipJson<IpAddr[]>(["link", "show", "eth0"], c.netns.name)[0]!.operstate).toBe("DOWN");
    mustCall("bridge", c.call("DEL", { config: layer2 }));
  });

  it("brings a layer-2 container interface up without IPAM", () => {
    const c = newContainer();
    const { ipam: _, ...layer2 } = network.bridgeConfig();
    const result = mustCall("bridge", c.call("ADD", { config: layer2 })).json;
    expect(result.ips).toBeUndefined();
    expect(ipJson<IpAddr[]>(["link", "show", "eth0"], c.netns.name)[0]!.operstate).toBe("UP");
    mustCall("bridge", c.call("DEL", { config: layer2 }));
  });

  it("masquerades with ipMasq and removes exactly this container's rules on DEL", () => {
    const c = newContainer();
    const config = network.bridgeConfig({ ipMasq: true });
    const add = c.call("ADD", { config });
    mustCall("bridge", add);
    const v4 = natRulesMentioning(add.containerId!);
    expect(v4.filter((rule) => rule.includes("MASQUERADE"))).toHaveLength(1);
    expect(v4.some((rule) => rule.startsWith("-A POSTROUTING") && rule.includes(`-s ${network.subnets.v4Prefix}.2/32`))).toBe(true);
    const v6 = natRulesMentioning(add.containerId!, "ip6tables-save");
    expect(v6.filter((rule) => rule.includes("MASQUERADE") && rule.includes("ff00::/8"))).toHaveLength(1);
    mustCall("bridge", c.call("DEL", { config }));
    expect(natRulesMentioning(add.containerId!)).toEqual([]);
    expect(natRulesMentioning(add.containerId!, "ip6tables-save")).toEqual([]);
  });
});
