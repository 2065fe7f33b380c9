import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNetns, type TestNetns } from "../../helpers/netns.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { randomSubnets, RUN_TAG } from "../../helpers/tag.ts";
import { makeNodeDirs, removeAll, runInstaller, type NodeDirs } from "./run-installer.ts";

/**
 * The switch from the reference plugins on a live node, as deploy/kubernetes/README.md tells
 * it: a node whose runtime networks pods with the reference's bridge, host-local and portmap
 * through its own configuration list gets our plugins by `cni install --no-conflist`. Pods
 * added before keep working and are deleted cleanly by our plugins; new pods get addresses the
 * reference's leases do not hold. The node is a namespace, its runtime scripts/cluster/kubelet.ts.
 */

const KUBELET = "scripts/cluster/kubelet.ts";
const NETWORK = "containerd-net";

describe("switching a live node from the reference plugins with cni install", () => {
  const scratch: string[] = [];
  const subnets = randomSubnets();
  let node: NodeDirs;
  let nodeNetns: TestNetns;
  const pods: TestNetns[] = [];

  /** The node's runtime, in the node's namespace, networking one pod. */
  function kubelet(command: "add" | "del", pod: TestNetns, port?: string) {
    const args = ["netns", "exec", nodeNetns.name, "node_modules/.bin/bun", KUBELET, command, node.root, `${RUN_TAG}-${pod.name}`, pod.path, ...(port ? [port] : [])];
    const outcome = spawnSync("ip", args, { encoding: "utf8", timeout: 60_000 });
    if (outcome.status !== 0) throw new Error(`kubelet ${command} ${pod.name}: ${outcome.stderr}`);
    return outcome.stdout;
  }
  const addressOf = (result: string) => (JSON.parse(result) as { ips: Array<{ address: string }> }).ips[0]!.address.split("/")[0]!;
  const leases = () => readdirSync(join(node.root, "var/lib/cni/networks", NETWORK)).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name));
  const natRules = () => nodeNetns.exec(["iptables-save", "-t", "nat"]);

  beforeAll(() => {
    node = makeNodeDirs(scratch);
    nodeNetns = createNetns("inn");
    for (const plugin of ["bridge", "host-local", "portmap", "loopback"]) copyFileSync(join(REFERENCE_BIN, plugin), join(node.bin, plugin));
    // What the node's runtime was set up with: the reference's names, its own configuration.
    const conflist = {
      cniVersion: "1.0.0",
      name: NETWORK,
      plugins: [
        { type: "bridge", bridge: "cni0", isGateway: true, ipMasq: true, ipam: { type: "host-local", dataDir: join(node.root, "var/lib/cni/networks"), ranges: [[{ subnet: subnets.v4 }]] } },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    };
    writeFileSync(join(node.conf, "10-containerd-net.conflist"), JSON.stringify(conflist, null, 2));
    mkdirSync(join(node.root, "var/lib/cni"), { recursive: true });
  });

  afterAll(() => {
    for (const pod of pods) pod.remove();
    nodeNetns?.remove();
    removeAll(scratch);
  });

  it("keeps the pods the reference plugins added working, deletes them cleanly with ours, and adds new pods beside them", async () => {
    const old = createNetns("ino");
    pods.push(old);
    const oldAddress = addressOf(kubelet("add", old, "8080:80"));
    expect(natRules()).toContain(`--to-destination ${oldAddress}:80`);

    const install = await runInstaller([...node.flags, "--no-conflist"]);
    expect(install.status, install.stderr).toBe(0);
    for (const plugin of ["bridge", "host-local", "portmap"]) expect(install.stdout).toContain(`replaced  ${join(node.bin, plugin)} (held another executable)`);
    expect(readFileSync(join(node.conf, "10-containerd-net.conflist"), "utf8")).toContain(NETWORK);

    const fresh = createNetns("inf");
    pods.push(fresh);
    const freshAddress = addressOf(kubelet("add", fresh));
    expect(freshAddress).not.toBe(oldAddress);
    expect(leases().sort()).toEqual([oldAddress, freshAddress].sort());
    expect(fresh.exec(["ping", "-c", "1", "-W", "2", oldAddress])).toContain("1 received");

    kubelet("del", old, "8080:80");
    expect(leases()).toEqual([freshAddress]);
    expect(natRules()).not.toContain(oldAddress);
    expect(nodeNetns.exec(["ip", "-o", "link", "show", "master", "cni0"]).trim().split("\n")).toHaveLength(1);

    kubelet("del", fresh);
    expect(leases()).toEqual([]);
    expect(nodeNetns.exec(["ip", "-o", "link", "show", "master", "cni0"]).trim()).toBe("");
    expect(readdirSync(join(node.root, "var/lib/cni/results"))).toEqual([]);
  });
});
