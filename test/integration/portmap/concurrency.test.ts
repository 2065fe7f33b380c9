import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatChainName } from "../../../lib/firewall/names.ts";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { createFirewallNetns, type FirewallNetns } from "../firewall/firewall-netns.ts";

const CONTAINERS = 8;

/**
 * Runtimes start plugins for different containers at the same time. Here eight portmap ADDs
 * (then DELs) run at once inside a namespace of the test's own, all racing to create the
 * shared chains and tables on first use: every container must end up with its rules, and the
 * shared parts must exist once.
 */
describe.each(["iptables", "nftables"] as const)("concurrent portmap runs with %s", (backend) => {
  let host: FirewallNetns;
  let sandbox: TestNetns;

  beforeEach(() => {
    host = createFirewallNetns("pmk");
    sandbox = createNetns("pmks");
  });
  afterEach(() => {
    host.ns.remove();
    sandbox.remove();
  });

  function run(command: "ADD" | "DEL", index: number): Promise<{ status: number | null; output: string }> {
    const config = {
      cniVersion: "1.0.0",
      name: "race",
      type: "portmap",
      backend,
      runtimeConfig: { portMappings: [{ hostPort: 30000 + index, containerPort: 80, protocol: "tcp" }] },
      prevResult: { cniVersion: "1.0.0", ips: [{ address: `10.77.0.${index + 2}/24` }, { address: `fd77::${index + 2}/64` }] },
    };
    return new Promise((resolve) => {
      const child = spawn("ip", ["netns", "exec", host.ns.name, join(OUR_BIN, "portmap")], {
        env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_CONTAINERID: `c${index}`, CNI_NETNS: sandbox.path, CNI_IFNAME: "eth0", CNI_PATH: OUR_BIN },
      });
      let output = "";
      child.stdout.on("data", (data) => (output += data));
      child.stderr.on("data", (data) => (output += data));
      child.on("close", (status) => resolve({ status, output }));
      child.stdin.end(JSON.stringify(config));
    });
  }

  const everyContainer = () => Array.from({ length: CONTAINERS }, (_, index) => index);

  it("gives every container its rules and makes the shared parts once; then removes every container's", async () => {
    const adds = await Promise.all(everyContainer().map((index) => run("ADD", index)));
    expect(adds.filter((outcome) => outcome.status !== 0)).toEqual([]);

    if (backend === "iptables") {
      for (const family of [4, 6] as const) {
        const lines = host.iptablesRules(family);
        for (const index of everyContainer()) {
          const chain = formatChainName("race", `c${index}`, "DN-");
          expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^-A CNI-HOSTPORT-DNAT .*--dports ${30000 + index} -j ${chain}$`)));
          expect(lines.filter((line) => line.startsWith(`-A ${chain} `) && line.includes("DNAT"))).toHaveLength(1);
        }
        expect(lines.filter((line) => line === "-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT")).toHaveLength(1);
        expect(lines.filter((line) => line.startsWith("-A POSTROUTING"))).toHaveLength(1);
        expect(lines.filter((line) => line.startsWith("-A CNI-HOSTPORT-SETMARK"))).toHaveLength(1);
      }
    } else {
      for (const family of ["ip", "ip6"]) {
        const listing = host.nftTable(family, "cni_hostport")!;
        const comments = listing.filter((entry) => entry.rule?.chain === "hostports").map((entry) => entry.rule!.comment);
        expect(comments.sort()).toEqual(everyContainer().map((index) => `c${index}`).sort());
        expect(listing.filter((entry) => entry.rule?.chain === "prerouting")).toHaveLength(1);
        expect(listing.filter((entry) => entry.rule?.chain === "hostports_all")).toHaveLength(2);
      }
    }

    const dels = await Promise.all(everyContainer().map((index) => run("DEL", index)));
    expect(dels.filter((outcome) => outcome.status !== 0)).toEqual([]);
    if (backend === "iptables") {
      for (const family of [4, 6] as const) expect(host.iptablesRules(family).filter((line) => line.includes("CNI-DN-"))).toEqual([]);
    } else {
      for (const family of ["ip", "ip6"]) {
        expect(host.nftTable(family, "cni_hostport")!.filter((entry) => entry.rule?.comment !== undefined)).toEqual([]);
      }
    }
  });
});
