import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteLinkIfExists, linkExists } from "../helpers/netns.ts";
import { OUR_BIN } from "../helpers/paths.ts";
import { randomSubnets, RUN_TAG, uniqueName } from "../helpers/tag.ts";
import { run } from "./helpers/commands.ts";
import { CONTAINERD_HOST_PATHS, containerdMissing, inNetns, startPrivateContainerd, type PrivateContainerd } from "./helpers/containerd.ts";
import { runtimeWorkspace } from "./helpers/host-cleanup.ts";
import { fetchPage, freeTcpPort } from "./helpers/network.ts";
import { createPrivatePodman, importBusyboxImage, PODMAN_HOST_PATHS, podmanMissing } from "./helpers/podman.ts";
import { Teardown } from "./helpers/teardown.ts";
import { timed } from "./helpers/timing.ts";
import { bridgePorts, leasedAddresses, leftoversOf, OWNER_INDEX } from "./helpers/traces.ts";

/**
 * containerd 1.6 running a Kubernetes pod sandbox through its CRI plugin, the way the kubelet
 * drives it: containerd itself loads the conflist from the CRI plugin's conf_dir, runs our
 * executables from its bin_dir (its own loopback network, then our chain: bridge + host-local,
 * portmap, firewall, tuning, bandwidth) on RunPodSandbox and tears them down on StopPodSandbox.
 *
 * Why the CRI and not `ctr run --cni`: ctr 1.6 builds its CNI setup with go-cni's defaults
 * (gocni.New(gocni.WithDefaultConf)), so it only ever reads /etc/cni/net.d and /opt/cni/bin and
 * has no flag or variable to look elsewhere; the CRI plugin's bin_dir and conf_dir can point
 * at the test's own directories. crictl is not packaged for Debian 12, so the test speaks the
 * CRI's gRPC itself (helpers/cri.ts). The image is busybox-static, saved by podman as an OCI
 * archive and imported with `ctr images import` (no registry is reachable); its command, busybox
 * httpd, is the sandbox's process, so the pod serves a page.
 */
const missing = containerdMissing() ?? podmanMissing();
if (missing) console.warn(`containerd end-to-end tests skipped: ${missing}`);

const RATE = "10Mbit";

describe.skipIf(missing !== undefined)("containerd 1.6 (CRI plugin) with our plugins", () => {
  const teardown = new Teardown();
  const network = uniqueName("cnitsd");
  const bridge = uniqueName("cbr");
  const subnets = randomSubnets();
  const image = `localhost/cnits-bb:${RUN_TAG}`;
  const page = `served by busybox httpd in a containerd pod, networked by cni-ts (${RUN_TAG})\n`;
  const cgroupParent = `cnits-cri-${RUN_TAG}`;
  let dir: string;
  let confDir: string;
  let leaseDir: string;
  let containerd: PrivateContainerd;
  let hostPort: number;
  let sandbox: { id: string; state: string; ip: string; netns: string };

  beforeAll(async () => {
    // podman saves the image (its blob-info cache), containerd runs shims (their socket directory).
    const hostPaths = [...PODMAN_HOST_PATHS, ...CONTAINERD_HOST_PATHS];
    dir = runtimeWorkspace(teardown, { prefix: "e2e-containerd-", hostPaths, cgroup: cgroupParent });
    teardown.add(`remove the bridge ${bridge}`, () => deleteLinkIfExists(bridge));

    const archive = join(dir, "image.oci.tar");
    timed("build the image with podman and save it as an OCI archive", () => {
      const podman = createPrivatePodman(join(dir, "podman"), OUR_BIN);
      importBusyboxImage(podman, join(dir, "podman"), image, page);
      podman.podman(["save", "--format", "oci-archive", "--output", archive, image]);
    });

    confDir = join(dir, "net.d");
    const dataDir = join(dir, "host-local");
    leaseDir = join(dataDir, network); // host-local keeps a network's leases in <dataDir>/<network name>
    mkdirSync(confDir);
    writeFileSync(join(confDir, `10-${network}.conflist`), JSON.stringify(conflist(network, bridge, subnets.v4, dataDir), null, 2));

    containerd = await timed("start containerd", () =>
      startPrivateContainerd(join(dir, "containerd"), { cniBinDir: OUR_BIN, cniConfDir: confDir, sandboxImage: image }),
    );
    teardown.add("stop containerd", () => containerd.stop());
    teardown.add("stop and remove every pod of the test's containerd", async () => {
      for (const id of await containerd.cri.listPodSandboxIds()) {
        await containerd.cri.stopPodSandbox(id);
        await containerd.cri.removePodSandbox(id);
      }
    });
    containerd.ctr(["images", "import", archive]);

    hostPort = await freeTcpPort();
    const id = await timed("RunPodSandbox (ADD of loopback and the chain)", () =>
      containerd.cri.runPodSandbox({
        name: "web",
        uid: `cnits-${RUN_TAG}`,
        namespace: "cnits-e2e",
        portMappings: [{ containerPort: 80, hostPort }],
        annotations: { "kubernetes.io/ingress-bandwidth": "10M", "kubernetes.io/egress-bandwidth": "10M" },
        cgroupParent: `/${cgroupParent}`,
      }),
    );
    const status = await containerd.cri.podSandboxStatus(id);
    const spec = JSON.parse(status.info.info ?? "{}") as { runtimeSpec?: { linux?: { namespaces?: Array<{ type: string; path?: string }> } } };
    const netns = spec.runtimeSpec?.linux?.namespaces?.find((namespace) => namespace.type === "network")?.path;
    if (!netns) throw new Error(`PodSandboxStatus names no network namespace: ${status.info.info}`);
    sandbox = { id, state: status.state, ip: status.ip, netns };
  }, 180_000);

  afterAll(() => teardown.run(), 120_000);

  it("containerd loads our conflist and looks for plugins only in our directory (NetworkReady)", async () => {
    const status = await containerd.cri.status();
    expect(status.conditions.find((condition) => condition.type === "NetworkReady")).toMatchObject({ status: true });
    const cni = JSON.parse(status.info.cniconfig ?? "{}") as { PluginDirs: string[]; PluginConfDir: string; Networks: Array<{ Config: { Name: string } }> };
    expect(cni.PluginDirs).toEqual([OUR_BIN]);
    expect(cni.PluginConfDir).toBe(confDir);
    expect(cni.Networks.map((net) => net.Config.Name)).toEqual(["cni-loopback", network]);
  });

  it("the pod has the address our host-local leased to it, on eth0 in its namespace, with lo up (our loopback)", () => {
    expect(sandbox.state).toBe("ready");
    expect(sandbox.ip.startsWith(`${subnets.v4Prefix}.`)).toBe(true);
    expect(leasedAddresses(leaseDir)).toEqual([sandbox.ip]);
    expect(readFileSync(join(leaseDir, sandbox.ip), "utf8")).toBe(`${sandbox.id}\r\neth0`);
    expect(existsSync(join(leaseDir, OWNER_INDEX)), "our host-local's owner index (the reference keeps none)").toBe(true);
    const links = JSON.parse(inNetns(sandbox.netns, ["ip", "-j", "addr", "show"])) as Array<{
      ifname: string;
      flags: string[];
      addr_info: Array<{ family: string; local: string; prefixlen: number }>;
    }>;
    const eth0 = links.find((link) => link.ifname === "eth0");
    expect(eth0?.addr_info).toContainEqual(expect.objectContaining({ family: "inet", local: sandbox.ip, prefixlen: 24 }));
    expect(links.find((link) => link.ifname === "lo")?.flags).toContain("UP");
    expect(bridgePorts(bridge)).toHaveLength(1);
  });

  it("the host reaches the pod: it answers ping at its address and serves its page on the mapped port of 127.0.0.1", async () => {
    const ping = run("ping", ["-c", "3", "-W", "5", sandbox.ip]);
    expect(ping).toMatch(/3 packets transmitted, 3 received/);
    expect(await fetchPage(`http://127.0.0.1:${hostPort}/`)).toBe(page);
  });

  it("the pod's bandwidth annotations reach our bandwidth plugin: tbf shapes both directions to 10 Mbit/s", () => {
    const [hostVeth] = bridgePorts(bridge);
    expect(run("tc", ["qdisc", "show", "dev", hostVeth!])).toMatch(new RegExp(`qdisc tbf .* rate ${RATE}`));
    const ifb = ifbRedirectedTo(hostVeth!);
    expect(ifb, "ingress of the veth redirected to an ifb device").toBeDefined();
    expect(run("tc", ["qdisc", "show", "dev", ifb!])).toMatch(new RegExp(`qdisc tbf .* rate ${RATE}`));
  });

  it("StopPodSandbox and RemovePodSandbox leave no link, rule, lease, namespace or cached result behind", async () => {
    const [hostVeth] = bridgePorts(bridge);
    const ifb = ifbRedirectedTo(hostVeth!);
    await timed("StopPodSandbox (DEL of the chain and loopback)", () => containerd.cri.stopPodSandbox(sandbox.id));
    expect(linkExists(hostVeth!), `host end ${hostVeth} of the pod's veth`).toBe(false);
    if (ifb) expect(linkExists(ifb), `ifb device ${ifb}`).toBe(false);
    expect(leftoversOf({ containerId: sandbox.id, address: sandbox.ip, leaseDir, bridge, netns: sandbox.netns })).toEqual({});

    await containerd.cri.removePodSandbox(sandbox.id);
    expect(await containerd.cri.listPodSandboxIds()).not.toContain(sandbox.id);
  });
});

/** The device the bandwidth plugin redirects `hostVeth`'s ingress to (where it shapes the pod's egress). */
function ifbRedirectedTo(hostVeth: string): string | undefined {
  return /to device (\S+)\)/.exec(run("tc", ["filter", "show", "dev", hostVeth, "parent", "ffff:"]))?.[1];
}

/** The configuration a cluster admin would drop into containerd's CNI conf_dir. */
function conflist(name: string, bridge: string, subnet: string, dataDir: string): object {
  return {
    cniVersion: "1.0.0",
    name,
    plugins: [
      {
        type: "bridge",
        bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: "host-local", dataDir, routes: [{ dst: "0.0.0.0/0" }], ranges: [[{ subnet }]] },
      },
      { type: "portmap", capabilities: { portMappings: true } },
      { type: "firewall" },
      { type: "tuning" },
      { type: "bandwidth", capabilities: { bandwidth: true } },
    ],
  };
}
