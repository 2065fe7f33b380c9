import { execFileSync } from "node:child_process";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { callPlugin, type PluginCall } from "../../helpers/cni.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { uniqueName } from "../../helpers/tag.ts";
import { createPtpNetwork, routeLines, type PtpNetwork } from "./harness.ts";

function containerLinks(netns: TestNetns): string[] {
  return netns.exec(["ip", "-o", "link", "show"]).split("\n").filter(Boolean).map((line) => line.split(": ")[1]!.split("@")[0]!).sort();
}

/** Host links whose veth peer is in the test's namespace (other tests' links come and go meanwhile). */
function hostLinksInto(netns: TestNetns): string[] {
  const id = netnsId(netns);
  if (id === undefined) return [];
  return JSON.parse(execFileSync("ip", ["-j", "link", "show"], { encoding: "utf8" }))
    .filter((link: { link_netnsid?: number }) => link.link_netnsid === id)
    .map((link: { ifname: string }) => link.ifname);
}

function netnsId(netns: TestNetns): number | undefined {
  const entries = JSON.parse(execFileSync("ip", ["-j", "netns", "list-id"], { encoding: "utf8" }) || "[]") as { nsid: number; name?: string }[];
  return entries.find((entry) => entry.name === netns.name)?.nsid;
}

describe("ptp: bad input gets the right error code and leaves nothing behind", () => {
  let network: PtpNetwork;
  let netns: TestNetns;

  beforeEach(() => {
    network = createPtpNetwork();
    netns = createNetns("pt");
  });
  afterEach(() => {
    netns.remove();
    network.cleanup();
  });

  function add(config: Record<string, unknown>, extra: Partial<PluginCall> = {}) {
    return callPlugin("ptp", { command: "ADD", containerId: uniqueName("ptc"), netns: netns.path, ifname: "eth0", config, ...extra });
  }

  function expectNothingLeft(ownLinks = ["lo"]): void {
    expect(containerLinks(netns)).toEqual(ownLinks);
    expect(hostLinksInto(netns)).toEqual([]);
    expect(network.leases()).toEqual([]);
    const { v4Prefix, v6Prefix } = network.subnets;
    expect(routeLines(undefined).filter((line) => line.includes(v4Prefix) || line.includes(v6Prefix))).toEqual([]);
  }

  it.each([
    ["mtu of the wrong type", { mtu: "big" }, 'mtu="big"'],
    ["mtu out of range", { mtu: 70000 }, "mtu=70000"],
    ["negative mtu", { mtu: -1 }, "mtu=-1"],
    ["ipMasq of the wrong type", { ipMasq: "yes" }, 'ipMasq="yes"'],
    ["an unknown ipMasqBackend", { ipMasqBackend: "pf" }, 'ipMasqBackend="pf"'],
    ["dns of the wrong type", { dns: "8.8.8.8" }, "dns="],
    ["dns nameservers of the wrong type", { dns: { nameservers: "8.8.8.8" } }, "dns.nameservers="],
    ["no ipam", { ipam: undefined }, "ipam="],
    ["an empty ipam", { ipam: {} }, "ipam="],
  ])("%s: code 7 naming the key", (_, overrides, named) => {
    const outcome = add(network.config(overrides));
    expect(outcome.status).not.toBe(0);
    expect(outcome.json).toMatchObject({ code: 7 });
    expect(outcome.json.msg).toContain(named);
    expectNothingLeft();
  });

  it("an IPAM address without a gateway is code 7 naming it, and the veth pair is rolled back", () => {
    const address = `${network.subnets.v4Prefix}.9/24`;
    const outcome = add(network.config({ ipam: { type: "static", addresses: [{ address }] } }));
    expect(outcome.json).toMatchObject({ code: 7 });
    expect(outcome.json.msg).toContain(address);
    expect(outcome.json.msg).toContain("gateway");
    expectNothingLeft();
  });

  it("a route the kernel refuses fails the ADD after the veth and the lease exist: both are undone", () => {
    const config = network.config();
    const ipam = { ...(config.ipam as object), routes: [{ dst: "192.0.2.0/24", gw: "198.51.100.1" }] };
    const outcome = add({ ...config, ipam });
    expect(outcome.status).not.toBe(0);
    expect(outcome.json.code).toBe(100);
    expect(outcome.json.msg).toContain("192.0.2.0/24");
    expectNothingLeft();
  });

  it("a CNI_IFNAME already in the container is code 4 and takes no lease", () => {
    netns.exec(["ip", "link", "add", "eth0", "type", "veth", "peer", "name", "dmpeer"]);
    const outcome = add(network.config());
    expect(outcome.json).toMatchObject({ code: 4 });
    expect(outcome.json.msg).toContain("CNI_IFNAME");
    expectNothingLeft(["dmpeer", "eth0", "lo"]);
  });

  it("CHECK without prevResult is code 7 naming it", () => {
    const outcome = callPlugin("ptp", { command: "CHECK", containerId: uniqueName("ptc"), netns: netns.path, ifname: "eth0", config: network.config() });
    expect(outcome.json).toMatchObject({ code: 7 });
    expect(outcome.json.msg).toContain("prevResult");
  });
});
