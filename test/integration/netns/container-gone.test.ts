/**
 * DEL after the container side is gone: the runtime's bind mount of the namespace was unmounted
 * (a crash, a reboot) and CNI_NETNS now names a regular file or a directory. Every plugin of a
 * full chain must still release what the host holds (the lease, masquerading, port mappings,
 * firewall and MAC spoof rules, the ifb, tuning's saved settings, the host veth) and exit 0.
 * The namespace itself may be destroyed, or still alive because some process holds it: then its
 * veth pair lives on too, and bridge must delete the host end itself.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CniRuntime, networkConfigListFromBytes, type RuntimeConf } from "../../../lib/runtime/index.ts";
import { mustCall } from "../../helpers/cni.ts";
import { createNetns, linkExists, linkGoneWithin, type TestNetns } from "../../helpers/netns.ts";
import { sleepSync } from "../../../lib/sys/index.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";

const RATE = 50_000_000;

/** What the runtime's bind mount becomes once unmounted: the empty file it was mounted on, or a directory put there. */
const leftovers = {
  "a regular file": (path: string) => execFileSync("umount", [path]),
  "a directory": (path: string) => {
    execFileSync("umount", [path]);
    rmSync(path);
    mkdirSync(path);
  },
};

function hostRulesMentioning(text: string): string[] {
  const iptables = ["iptables-save", "ip6tables-save"].flatMap((tool) => execFileSync(tool, { encoding: "utf8" }).split("\n"));
  const nft = execFileSync("nft", ["list", "ruleset"], { encoding: "utf8" }).split("\n");
  return [...iptables, ...nft].filter((line) => line.includes(text));
}

describe.each(Object.entries(leftovers))("DEL when CNI_NETNS has become %s", (_leftover, unmount) => {
  let network: TestNetwork;
  let scratch: string;
  let runtime: CniRuntime;
  let netns: TestNetns;

  beforeEach(() => {
    network = createTestNetwork();
    scratch = mkdtempSync(join(tmpdir(), "cni-gone-"));
    runtime = new CniRuntime({ path: [OUR_BIN], cacheDir: join(scratch, "cache") });
    netns = createNetns("shg");
  });
  afterEach(() => {
    netns.remove();
    rmSync(netns.path, { recursive: true, force: true });
    network.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  });

  function chain() {
    const plugins = [
      { ...network.bridgeConfig({ isDefaultGateway: true, ipMasq: true, macspoofchk: true }), name: undefined, cniVersion: undefined },
      { type: "portmap", capabilities: { portMappings: true } },
      { type: "firewall" },
      { type: "tuning", mtu: 1400, dataDir: join(scratch, "tuning") },
      { type: "bandwidth", capabilities: { bandwidth: true } },
    ];
    return networkConfigListFromBytes(JSON.stringify({ cniVersion: "1.1.0", name: network.name, plugins }));
  }

  function attachment(): RuntimeConf {
    return {
      containerId: uniqueName("shgc"),
      netns: netns.path,
      ifName: "eth0",
      capabilityArgs: {
        portMappings: [{ hostPort: 23000 + Math.floor(Math.random() * 1000), containerPort: 80, protocol: "tcp" }],
        bandwidth: { ingressRate: RATE, ingressBurst: RATE / 8, egressRate: RATE, egressBurst: RATE / 8 },
      },
    };
  }

  it.each([
    ["destroyed with its mount", false],
    ["still held by a process", true],
  ])("releases everything the host holds for the attachment when the namespace is %s", async (_fate, held) => {
    const list = chain();
    const rt = attachment();
    const { result } = await runtime.addNetworkList(list, rt);
    const hostLinks = (result.interfaces ?? []).filter((intf) => !intf.sandbox && intf.name !== network.bridge).map((intf) => intf.name);
    const address = result.ips![0]!.address.split("/")[0]!;
    expect(hostLinks).toHaveLength(2); // the host veth and the ifb
    expect(network.leases()).not.toEqual([]);
    expect(hostRulesMentioning(rt.containerId)).not.toEqual([]);
    expect(readdirSync(join(scratch, "tuning"))).toEqual([`${rt.containerId}_eth0.json`]);

    // A process inside keeps the namespace (and so the veth pair) alive after its mount is gone.
    const holder = held ? startProcessIn(netns) : undefined;
    try {
      unmount(netns.path);
      await runtime.delNetworkList(list, rt);
      await runtime.delNetworkList(list, rt);

      expect(network.leases()).toEqual([]);
      expect(hostRulesMentioning(rt.containerId)).toEqual([]);
      expect(hostRulesMentioning(` ${address}/`).filter((rule) => rule.includes("CNI-FORWARD"))).toEqual([]);
      expect(readdirSync(join(scratch, "tuning"))).toEqual([]);
      for (const name of hostLinks) {
        // Held, the pair would live on with its namespace unless bridge deleted the host end itself.
        if (held) expect(linkExists(name), name).toBe(false);
        else expect(linkGoneWithin(name, 5000), name).toBe(true);
      }
    } finally {
      holder?.kill("SIGKILL");
    }
  });

  it("lets loopback DEL succeed", () => {
    const call = { containerId: uniqueName("shgl"), netns: netns.path, ifname: "eth0", config: { cniVersion: "1.0.0", name: "lo", type: "loopback" } };
    mustCall("loopback", { ...call, command: "ADD" });
    unmount(netns.path);
    expect(mustCall("loopback", { ...call, command: "DEL" }).stdout).toBe("");
    expect(existsSync(netns.path)).toBe(true);
  });
});

/** A process sleeping inside the namespace, started and seen there before this returns. */
function startProcessIn(netns: TestNetns): ChildProcess {
  const child = spawn("ip", ["netns", "exec", netns.name, "sleep", "60"], { stdio: "ignore" });
  for (let waited = 0; waited < 5000; waited += 50) {
    if (execFileSync("ip", ["netns", "pids", netns.name], { encoding: "utf8" }).trim() !== "") return child;
    sleepSync(50);
  }
  child.kill("SIGKILL");
  throw new Error(`no process showed up in ${netns.name}`);
}
