import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CniRuntime, networkConfigListFromBytes, PluginError, type RuntimeConf } from "../../../lib/runtime/index.ts";
import { createNetns, linkExists, linkGoneWithin, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";

/**
 * The chain podman writes (bridge + host-local -> portmap -> firewall -> tuning), and the same
 * with bandwidth appended as Kubernetes does, driven as a runtime drives it: ADD in order with
 * prevResult threading, CHECK, DEL in reverse with the cached result, a second DEL. Afterwards
 * nothing of the container may remain.
 */
const RATE = 50_000_000;

/** The chain; `stateful` adds what keeps more host state: the MAC spoof check and tuning's saved settings. */
function chain(network: TestNetwork, withBandwidth: boolean, stateful = false) {
  const plugins: Record<string, unknown>[] = [
    {
      ...network.bridgeConfig({ isDefaultGateway: true, ipMasq: true, hairpinMode: true, ...(stateful && { macspoofchk: true }) }),
      name: undefined,
      cniVersion: undefined,
    },
    { type: "portmap", capabilities: { portMappings: true } },
    { type: "firewall" },
    { type: "tuning", ...(stateful && { mtu: 1400 }) },
  ];
  if (withBandwidth) plugins.push({ type: "bandwidth", capabilities: { bandwidth: true } });
  return networkConfigListFromBytes(JSON.stringify({ cniVersion: "1.1.0", name: network.name, plugins }));
}

function hostRuleLines(): string[] {
  const iptables = ["iptables-save", "ip6tables-save"].flatMap((tool) => execFileSync(tool, { encoding: "utf8" }).split("\n"));
  const nft = execFileSync("nft", ["list", "ruleset"], { encoding: "utf8" }).split("\n");
  return [...iptables, ...nft];
}

function hostRulesMentioning(containerId: string): string[] {
  return hostRuleLines().filter((line) => line.includes(containerId));
}

/** Rules naming one of the addresses as a host (the firewall's accept rules name no container). */
function hostRulesNaming(ips: readonly string[]): string[] {
  return hostRuleLines().filter((line) => ips.some((ip) => new RegExp(`[\\s"]${ip.replaceAll(".", "\\.")}(/(32|128))?([\\s":]|$)`).test(line)));
}

describe.each([
  ["the podman chain", false],
  ["the podman chain with bandwidth", true],
])("%s through our runtime library", (_, withBandwidth) => {
  let network: TestNetwork;
  let cacheDir: string;
  let runtime: CniRuntime;
  const namespaces: TestNetns[] = [];

  beforeEach(() => {
    network = createTestNetwork();
    cacheDir = mkdtempSync(join(tmpdir(), "cni-cache-"));
    runtime = new CniRuntime({ path: [OUR_BIN], cacheDir });
  });
  afterEach(() => {
    for (const netns of namespaces.splice(0)) netns.remove();
    network.cleanup();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  function attachment(hostPort: number): RuntimeConf {
    const netns = createNetns("ch");
    namespaces.push(netns);
    return {
      containerId: uniqueName("pc"),
      netns: netns.path,
      ifName: "eth0",
      capabilityArgs: {
        portMappings: [{ hostPort, containerPort: 80, protocol: "tcp" }],
        bandwidth: { ingressRate: RATE, ingressBurst: RATE / 8, egressRate: RATE, egressBurst: RATE / 8 },
      },
    };
  }

  it("adds, checks, serves a mapped port, deletes twice and leaves nothing behind", async () => {
    const list = chain(network, withBandwidth);
    const hostPort = 21000 + Math.floor(Math.random() * 1000);
    const rt = attachment(hostPort);
    const { result } = await runtime.addNetworkList(list, rt);
    const hostInterfaces = (result.interfaces ?? []).filter((intf) => !intf.sandbox && intf.name !== network.bridge).map((intf) => intf.name);
    expect(hostInterfaces.length).toBe(withBandwidth ? 2 : 1); // the host veth (and the ifb)
    expect(hostRulesMentioning(rt.containerId).length).toBeGreaterThan(0);
    await runtime.checkNetworkList(list, rt);

    // Traffic through the mapped port, from the host.
    const site = mkdtempSync(join(tmpdir(), "cni-site-"));
    writeFileSync(join(site, "index.html"), `chain ${rt.containerId}\n`);
    const netnsName = rt.netns.split("/").pop()!;
    execFileSync("ip", ["netns", "exec", netnsName, "busybox", "httpd", "-p", "80", "-h", site]);
    try {
      const page = spawnSync("curl", ["--silent", "--max-time", "5", "--noproxy", "*", `http://127.0.0.1:${hostPort}/`], { encoding: "utf8" });
      expect(page.stdout).toBe(`chain ${rt.containerId}\n`);
    } finally {
      for (const pid of execFileSync("ip", ["netns", "pids", netnsName], { encoding: "utf8" }).split("\n").filter(Boolean)) process.kill(Number(pid));
      rmSync(site, { recursive: true, force: true });
    }

    await runtime.delNetworkList(list, rt);
    await runtime.delNetworkList(list, rt);
    expect(hostRulesMentioning(rt.containerId)).toEqual([]);
    for (const name of hostInterfaces) expect(linkExists(name), name).toBe(false);
    expect(network.leases()).toEqual([]);
    expect(existsSync(join(cacheDir, "results")) ? readdirSync(join(cacheDir, "results")) : []).toEqual([]);
  });

  it.each([
    ["still there", false],
    ["already gone", true],
  ])("DEL without a cached result (the runtime died after ADD) removes everything, the container's namespace %s", async (_, netnsGone) => {
    const list = chain(network, withBandwidth, true);
    const rt = attachment(23000 + Math.floor(Math.random() * 1000));
    const { result } = await runtime.addNetworkList(list, rt);
    const hostInterfaces = (result.interfaces ?? []).filter((intf) => !intf.sandbox && intf.name !== network.bridge).map((intf) => intf.name);
    const ips = (result.ips ?? []).map((ip) => ip.address.split("/")[0]!);
    const savedSettings = join("/run/cni/tuning", `${rt.containerId}_eth0.json`);
    expect(hostRulesNaming(ips).length).toBeGreaterThan(0);
    expect(existsSync(savedSettings)).toBe(true);

    rmSync(join(cacheDir, "results"), { recursive: true, force: true });
    if (netnsGone) namespaces.pop()!.remove();
    await runtime.delNetworkList(list, rt);

    expect(hostRulesMentioning(rt.containerId)).toEqual([]);
    expect(hostRulesNaming(ips)).toEqual([]);
    for (const name of hostInterfaces) expect(linkGoneWithin(name, 5000), name).toBe(true);
    expect(network.leases()).toEqual([]);
    expect(existsSync(savedSettings)).toBe(false);
  });

  const breakages: [string, (rt: RuntimeConf, hostVeth: string) => void, string][] = [
    ["a firewall rule", (rt, _veth) => deleteFirewallRule(rt), "firewall"],
    ["a portmap rule", (rt) => deletePortmapRule(rt), "portmap"],
    ...(withBandwidth ? [["the shaping qdisc", (_rt: RuntimeConf, veth: string) => execFileSync("tc", ["qdisc", "del", "dev", veth, "root"]), "bandwidth"] as [string, (rt: RuntimeConf, hostVeth: string) => void, string]] : []),
  ];

  it.each(breakages)("fails CHECK with code 104 after someone deletes %s, and DEL still cleans up", async (_what, breakIt, plugin) => {
    const list = chain(network, withBandwidth);
    const rt = attachment(22000 + Math.floor(Math.random() * 1000));
    const { result } = await runtime.addNetworkList(list, rt);
    const hostVeth = result.interfaces!.find((intf) => intf.name.startsWith("veth"))!.name;
    breakIt(rt, hostVeth);
    const failure = await runtime.checkNetworkList(list, rt).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PluginError);
    expect((failure as PluginError).code).toBe(104);
    expect((failure as PluginError).message).toContain(plugin);
    await runtime.delNetworkList(list, rt);
    expect(hostRulesMentioning(rt.containerId)).toEqual([]);
  });
});

/** Deletes one of the container's accept rules in CNI-FORWARD (they match its address). */
function deleteFirewallRule(rt: RuntimeConf): void {
  const address = containerAddress(rt);
  const rule = execFileSync("iptables-save", ["-t", "filter"], { encoding: "utf8" })
    .split("\n")
    .find((line) => line.startsWith("-A CNI-FORWARD") && line.includes(`${address}/32`));
  if (!rule) throw new Error(`no CNI-FORWARD rule for ${address}`);
  execFileSync("iptables", ["-t", "filter", ...splitRule(rule.replace(/^-A/, "-D"))]);
}

/** Deletes the container's DNAT entry rule (it carries the container ID in its comment). */
function deletePortmapRule(rt: RuntimeConf): void {
  const rule = execFileSync("iptables-save", ["-t", "nat"], { encoding: "utf8" })
    .split("\n")
    .find((line) => line.startsWith("-A CNI-HOSTPORT-DNAT") && line.includes(rt.containerId));
  if (!rule) throw new Error(`no CNI-HOSTPORT-DNAT rule for ${rt.containerId}`);
  execFileSync("iptables", ["-t", "nat", ...splitRule(rule.replace(/^-A/, "-D"))]);
}

function containerAddress(rt: RuntimeConf): string {
  const out = execFileSync("ip", ["-n", rt.netns.split("/").pop()!, "-4", "-j", "addr", "show", "dev", "eth0"], { encoding: "utf8" });
  return (JSON.parse(out) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
}

/** iptables-save prints a rule as shell words; comments are double-quoted with \" inside. */
function splitRule(rule: string): string[] {
  const words: string[] = [];
  const pattern = /"((?:\\.|[^"\\])*)"|(\S+)/g;
  for (const match of rule.matchAll(pattern)) words.push(match[1] !== undefined ? match[1].replace(/\\"/g, '"') : match[2]!);
  return words;
}

