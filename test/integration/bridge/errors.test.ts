import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, mustCall, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, linkExists, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";

interface HostLink {
  ifname: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}

/**
 * The host links a bridge ADD into `netns` could have made: the test's bridge and veths whose
 * other end is in `netns`. Other test files create links meanwhile; those are not ours to count.
 */
function hostLinksOf(network: TestNetwork, netns: TestNetns): string[] {
  const namespaces = JSON.parse(execFileSync("ip", ["-j", "netns", "list"], { encoding: "utf8" }) || "[]") as { name: string; id?: number }[];
  const netnsId = namespaces.find((entry) => entry.name === netns.name)?.id;
  const links = JSON.parse(execFileSync("ip", ["-j", "-d", "link", "show"], { encoding: "utf8" })) as HostLink[];
  return links
    .filter((link) => link.ifname === network.bridge || (link.linkinfo?.info_kind === "veth" && netnsId !== undefined && link.link_netnsid === netnsId))
    .map((link) => link.ifname)
    .sort();
}

function containerLinks(netns: TestNetns): string[] {
  return netns.exec(["ip", "-o", "link", "show"]).split("\n").filter(Boolean).map((line) => line.split(": ")[1]!.split("@")[0]!);
}

describe("bridge: bad input gets the right error code and leaves nothing behind", () => {
  let network: TestNetwork;
  let netns: TestNetns;
  let linksBefore: string[];

  beforeEach(() => {
    network = createTestNetwork();
    netns = createNetns();
    linksBefore = hostLinksOf(network, netns);
  });
  afterEach(() => {
    netns.remove();
    network.cleanup();
  });

  function add(extra: Partial<PluginCall> = {}) {
    return callPlugin("bridge", { command: "ADD", containerId: uniqueName("c"), netns: netns.path, ifname: "eth0", config: network.bridgeConfig(), ...extra });
  }

  /**
   * No link appeared on the host. Links may vanish meanwhile: the kernel tears a deleted
   * namespace (and the host ends of its veths) down later, so "fewer" is not a failure.
   */
  function expectNothingLeft(): void {
    expect(hostLinksOf(network, netns).filter((link) => !linksBefore.includes(link))).toEqual([]);
    expect(containerLinks(netns)).toEqual(["lo"]);
    expect(network.leases()).toEqual([]);
  }

  it.each([
    ["mtu", { mtu: "big" }, "mtu=\"big\""],
    ["vlan out of range", { vlan: 5000 }, "vlan=5000"],
    ["bridge name too long", { bridge: "a-very-long-bridge-name" }, "bridge="],
    ["hairpin with promiscuous mode", { hairpinMode: true, promiscMode: true }, "hairpinMode=true"],
    ["ipam with disableContainerInterface", { disableContainerInterface: true }, "disableContainerInterface=true"],
    ["a malformed runtimeConfig.mac", { runtimeConfig: { mac: "zz:00" } }, "runtimeConfig.mac=\"zz:00\""],
    ["vlanTrunk minID above maxID", { vlanTrunk: [{ minID: 20, maxID: 10 }] }, "vlanTrunk[0]"],
    ["an unknown ipMasqBackend", { ipMasq: true, ipMasqBackend: "pf" }, "ipMasqBackend=\"pf\""],
  ])("answers code 7 for %s, naming the field", (_, overrides, field) => {
    const outcome = add({ config: network.bridgeConfig(overrides) });
    expect(outcome.status).toBe(1);
    expect(outcome.json.code).toBe(7);
    expect(outcome.json.msg).toContain(field);
    expectNothingLeft();
  });

  it("answers code 7 for a network name with a slash", () => {
    const outcome = add({ config: network.bridgeConfig({ name: "bad/name" }) });
    expect(outcome.json).toMatchObject({ code: 7 });
    expect(outcome.json.msg).toContain('name="bad/name"');
    expectNothingLeft();
  });

  it("answers code 1 for a cniVersion it does not speak", () => {
    const outcome = add({ config: network.bridgeConfig({}, "0.9.9") });
    expect(outcome.json).toMatchObject({ code: 1 });
    expectNothingLeft();
  });

  it("answers code 6 for a configuration that is not JSON", () => {
    const outcome = add({ config: '{"cniVersion": "1.0.0", "name": ' });
    expect(outcome.json).toMatchObject({ code: 6 });
    expectNothingLeft();
  });

  it("answers code 5 when stdin cannot be read", () => {
    const directory = openSync("/", "r");
    try {
      const outcome = spawnSync(join(OUR_BIN, "bridge"), [], {
        stdio: [directory, "pipe", "pipe"],
        env: { CNI_COMMAND: "ADD", CNI_CONTAINERID: "c1", CNI_NETNS: netns.path, CNI_IFNAME: "eth0", CNI_PATH: OUR_BIN },
        encoding: "utf8",
      });
      expect(outcome.status).toBe(1);
      expect(JSON.parse(outcome.stdout)).toMatchObject({ code: 5 });
    } finally {
      closeSync(directory);
    }
    expectNothingLeft();
  });

  it.each([
    ["CNI_IFNAME missing", { ifname: undefined }, "CNI_IFNAME"],
    ["CNI_IFNAME too long", { ifname: "eth0123456789012" }, "CNI_IFNAME"],
    ["CNI_CONTAINERID with a slash", { containerId: "a/b" }, "CNI_CONTAINERID"],
    ["CNI_NETNS pointing nowhere", { netns: "/run/netns/no-such-namespace" }, "CNI_NETNS"],
    ["CNI_ARGS with a key bridge does not know", { args: "FOO=bar" }, "CNI_ARGS"],
  ])("answers code 4 for %s, naming the variable", (_, extra, variable) => {
    const outcome = add(extra);
    expect(outcome.json.code).toBe(4);
    expect(outcome.json.msg).toContain(variable);
    expectNothingLeft();
  });

  it("answers code 4 when CNI_IFNAME already exists in the container, and keeps that interface", () => {
    netns.exec(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "peer0"]);
    const outcome = add();
    expect(outcome.json.code).toBe(4);
    expect(outcome.json.msg).toContain("already exists");
    expect(containerLinks(netns).sort()).toEqual(["eth0", "lo", "peer0"]);
    netns.exec(["ip", "link", "del", "eth0"]);
    expectNothingLeft();
  });

  it("answers code 102 naming the IPAM plugin when CNI_PATH has no such plugin, and rolls back", () => {
    const config = network.bridgeConfig();
    (config.ipam as Record<string, unknown>).type = "no-such-ipam";
    const outcome = add({ config });
    expect(outcome.json.code).toBe(102);
    expect(outcome.json.msg).toContain('"no-such-ipam" not found in CNI_PATH');
    expectNothingLeft();
    expect(linkExists(network.bridge)).toBe(false);
  });

  it("rolls back the veth, the lease, the rules and the new bridge when a late step fails", () => {
    // The route's gateway is unreachable from the container, so the step after IPAM fails.
    const config = network.bridgeConfig({ ipMasq: true });
    (config.ipam as Record<string, unknown>).routes = [{ dst: "10.250.0.0/16", gw: "192.0.2.1" }];
    const containerId = uniqueName("c");
    const outcome = add({ config, containerId });
    expect(outcome.status).toBe(1);
    expect(outcome.json.code).toBe(100);
    expect(outcome.json.msg).toContain("10.250.0.0/16");
    expectNothingLeft();
    expect(linkExists(network.bridge)).toBe(false);
    expect(execFileSync("iptables-save", ["-t", "nat"], { encoding: "utf8" })).not.toContain(containerId);
  });

  it("answers code 2 for vlan on a kernel without bridge VLAN filtering", (context) => {
    if (bridgeVlanFilteringSupported()) {
      console.log("this kernel has bridge VLAN filtering: the unsupported-kernel error cannot occur here");
      context.skip();
    }
    for (const overrides of [{ vlan: 100 }, { vlanTrunk: [{ id: 10 }] }]) {
      const outcome = add({ config: network.bridgeConfig(overrides) });
      expect(outcome.json.code).toBe(2);
      expect(outcome.json.msg).toContain(Object.keys(overrides)[0]);
      expect(outcome.json.msg).toContain("kernel lacks bridge VLAN filtering");
      expectNothingLeft();
    }
  });

  it("answers code 2 for vlan on an existing bridge without VLAN filtering, leaving the bridge as it was", () => {
    execFileSync("ip", ["link", "add", network.bridge, "type", "bridge"]);
    linksBefore = hostLinksOf(network, netns);
    const outcome = add({ config: network.bridgeConfig({ vlan: 100 }) });
    expect(outcome.json.code).toBe(2);
    expectNothingLeft();
  });
});

describe("bridge STATUS", () => {
  let network: TestNetwork;
  beforeEach(() => {
    network = createTestNetwork();
  });
  afterEach(() => network.cleanup());

  const status = () => callPlugin("bridge", { command: "STATUS", config: network.bridgeConfig({}, "1.1.0") });

  it("is ready before the bridge exists and while it is up", () => {
    expect(status().status).toBe(0);
    execFileSync("ip", ["link", "add", network.bridge, "type", "bridge"]);
    execFileSync("ip", ["link", "set", network.bridge, "up"]);
    expect(status().status).toBe(0);
  });

  it("answers 51 when the bridge is down, and 50 when the name is not a bridge", () => {
    execFileSync("ip", ["link", "add", network.bridge, "type", "bridge"]);
    expect(status().json).toMatchObject({ code: 51 });
    execFileSync("ip", ["link", "del", network.bridge]);
    execFileSync("ip", ["link", "add", network.bridge, "type", "veth", "peer", "name", `${network.bridge}p`]);
    expect(status().json).toMatchObject({ code: 50 });
  });

  it("answers 50 when IPAM has no address left", () => {
    const config = network.bridgeConfig({}, "1.1.0");
    config.ipam = { type: "host-local", dataDir: network.dataDir, ranges: [[{ subnet: "10.254.1.0/30" }]] };
    const netns = createNetns();
    try {
      mustCall("bridge", { command: "ADD", containerId: "full1", netns: netns.path, ifname: "eth0", config });
      const outcome = callPlugin("bridge", { command: "STATUS", config });
      expect(outcome.json).toMatchObject({ code: 50 });
      mustCall("bridge", { command: "DEL", containerId: "full1", netns: netns.path, ifname: "eth0", config });
    } finally {
      netns.remove();
    }
  });
});

function bridgeVlanFilteringSupported(): boolean {
  const probe = uniqueName("vf");
  try {
    execFileSync("ip", ["link", "add", probe, "type", "bridge", "vlan_filtering", "1"], { stdio: "ignore" });
    execFileSync("ip", ["link", "del", probe]);
    return true;
  } catch {
    return false;
  }
}
