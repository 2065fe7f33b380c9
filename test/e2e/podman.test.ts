import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteLinkIfExists, linkExists } from "../helpers/netns.ts";
import { OUR_BIN } from "../helpers/paths.ts";
import { randomSubnets, RUN_TAG, uniqueName } from "../helpers/tag.ts";
import { runtimeWorkspace } from "./helpers/host-cleanup.ts";
import { fetchPage, freeTcpPort } from "./helpers/network.ts";
import { createPrivatePodman, importBusyboxImage, PODMAN_HOST_PATHS, PODMAN_RUN, podmanMissing, type PrivatePodman } from "./helpers/podman.ts";
import { Teardown } from "./helpers/teardown.ts";
import { timed } from "./helpers/timing.ts";
import { bridgePorts, firewallLinesMentioning, leasedAddresses, leftoversOf, OWNER_INDEX } from "./helpers/traces.ts";

/**
 * podman 4 with its CNI backend, driving our executables from our plugin directory exactly as it
 * drives the reference plugins: podman writes the conflist (bridge + host-local, portmap,
 * firewall, tuning), runs the plugins on `podman run` and `podman rm`, and reads their results.
 * podman's configuration, storage and state are the test's own (CONTAINERS_CONF,
 * CONTAINERS_STORAGE_CONF); host-local keeps its leases where podman's networks keep them,
 * /var/lib/cni/networks/<network>, under a network name unique to the run.
 */
const missing = podmanMissing();
if (missing) console.warn(`podman end-to-end tests skipped: ${missing}`);

/** Where host-local keeps leases when the configuration names no dataDir (podman's conflists don't). */
const HOST_LOCAL_DEFAULT_DIR = "/var/lib/cni/networks";

interface RunningContainer {
  id: string;
  ip: string;
  prefixLength: number;
  gateway: string;
  netns: string;
}

describe.skipIf(missing !== undefined)("podman 4 (CNI backend) with our plugins", () => {
  const teardown = new Teardown();
  const network = uniqueName("cnits");
  const subnets = randomSubnets();
  const image = `localhost/cnits-bb:${RUN_TAG}`;
  const page = `served by busybox httpd in a podman container, networked by cni-ts (${RUN_TAG})\n`;
  const cgroupParent = `cnits-e2e-${RUN_TAG}`;
  const leaseDir = join(HOST_LOCAL_DEFAULT_DIR, network);
  let podman: PrivatePodman;
  let hostPort: number;
  let bridge: string;
  let web: RunningContainer;

  beforeAll(async () => {
    const dir = runtimeWorkspace(teardown, { prefix: "e2e-podman-", hostPaths: PODMAN_HOST_PATHS, cgroup: cgroupParent });
    teardown.add(`remove ${leaseDir}`, () => rmSync(leaseDir, { recursive: true, force: true }));
    podman = createPrivatePodman(dir, OUR_BIN);
    teardown.add("remove every container of the test's podman", () => {
      podman.podman(["rm", "--all", "--force", "--time", "0"]);
    });

    importBusyboxImage(podman, dir, image, page);

    timed("podman network create", () => podman.podman(["network", "create", "--subnet", subnets.v4, network]));
    const [inspected] = JSON.parse(podman.podman(["network", "inspect", network])) as Array<{ network_interface: string }>;
    bridge = inspected!.network_interface;
    teardown.add(`remove the network ${network} and its bridge ${bridge}`, () => {
      spawnSync("podman", ["network", "rm", "--force", network], { env: podman.env });
      deleteLinkIfExists(bridge);
    });

    hostPort = await freeTcpPort();
    const id = timed("podman run -d (ADD through the chain)", () =>
      podman.podman([...PODMAN_RUN, "-d", "--name", `${network}-web`, "--network", network, "--cgroup-parent", `/${cgroupParent}`, "-p", `${hostPort}:80`, image]).trim(),
    );
    web = inspectContainer(podman, id, network);
  }, 180_000);

  afterAll(() => teardown.run(), 120_000);

  it("podman's CNI backend writes a conflist chaining bridge + host-local, portmap, firewall and tuning", () => {
    const conflist = JSON.parse(readFileSync(join(podman.networkConfigDir, `${network}.conflist`), "utf8")) as {
      plugins: Array<{ type: string; bridge?: string; ipam?: { type: string; ranges: Array<Array<{ subnet: string }>> } }>;
    };
    expect(conflist.plugins.map((plugin) => plugin.type)).toEqual(["bridge", "portmap", "firewall", "tuning"]);
    expect(conflist.plugins[0]).toMatchObject({ bridge, ipam: { type: "host-local", ranges: [[{ subnet: subnets.v4 }]] } });
    const info = JSON.parse(podman.podman(["info", "--format", "json"])) as { host: { networkBackend: string } };
    expect(info.host.networkBackend).toBe("cni");
  });

  it("the container has the address our host-local leased to it, on eth0 inside and in podman inspect", () => {
    expect(web.ip.startsWith(`${subnets.v4Prefix}.`)).toBe(true);
    expect(web.prefixLength).toBe(24);
    expect(web.gateway).toBe(`${subnets.v4Prefix}.1`);
    expect(leasedAddresses(leaseDir)).toEqual([web.ip]);
    expect(readFileSync(join(leaseDir, web.ip), "utf8")).toBe(`${web.id}\r\neth0`);
    expect(existsSync(join(leaseDir, OWNER_INDEX)), "our host-local's owner index (the reference keeps none)").toBe(true);
    const inside = podman.podman(["exec", web.id, "ip", "-o", "-4", "addr", "show", "dev", "eth0"]);
    expect(inside).toContain(`inet ${web.ip}/24`);
    expect(bridgePorts(bridge)).toHaveLength(1);
  });

  it("a page served in the container is fetched from the host through the mapped port on 127.0.0.1 (portmap)", async () => {
    expect(await fetchPage(`http://127.0.0.1:${hostPort}/`)).toBe(page);
    const dnat = firewallLinesMentioning([], [web.ip]).filter((line) => line.includes(`--dport ${hostPort} -j DNAT --to-destination ${web.ip}:80`));
    expect(dnat).not.toEqual([]);
  });

  it("the firewall plugin accepts the container's forwarded traffic (CNI-FORWARD names its address)", () => {
    const forward = firewallLinesMentioning([], [web.ip]).filter((line) => line.includes("-A CNI-FORWARD"));
    expect(forward).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`-A CNI-FORWARD -s ${web.ip}/32 -j ACCEPT`),
        expect.stringContaining(`-A CNI-FORWARD -d ${web.ip}/32 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`),
      ]),
    );
  });

  it("a second container on the network pings the first by its address", () => {
    const ping = timed("podman run --rm ping (ADD, ping, DEL)", () =>
      podman.podman([...PODMAN_RUN, "--rm", "--network", network, "--cgroup-parent", `/${cgroupParent}`, image, "ping", "-c", "3", "-W", "5", web.ip]),
    );
    expect(ping).toMatch(/3 packets transmitted, 3 packets received/);
    // Its DEL (on exit) gave its lease back: only the web container's remains.
    expect(leasedAddresses(leaseDir)).toEqual([web.ip]);
  });

  it("podman rm and podman network rm leave no link, rule, lease, namespace or cached result behind", () => {
    const ports = bridgePorts(bridge);
    timed("podman rm -f (DEL through the chain)", () => podman.podman(["rm", "--force", "--time", "0", web.id]));
    for (const port of ports) expect(linkExists(port), `host end ${port} of the container's veth`).toBe(false);
    expect(leftoversOf({ containerId: web.id, address: web.ip, leaseDir, bridge, netns: web.netns })).toEqual({});

    timed("podman network rm", () => podman.podman(["network", "rm", network]));
    expect(linkExists(bridge)).toBe(false);
    expect(readdirSync(podman.networkConfigDir).filter((name) => name.includes(network))).toEqual([]);
    expect(firewallLinesMentioning([network, `${subnets.v4Prefix}.`], [])).toEqual([]);
  });
});

/** What `podman inspect` says of a container's attachment to `network`. */
function inspectContainer(podman: PrivatePodman, id: string, network: string): RunningContainer {
  const [container] = JSON.parse(podman.podman(["inspect", id])) as Array<{
    Id: string;
    NetworkSettings: { SandboxKey: string; Networks: Record<string, { IPAddress: string; IPPrefixLen: number; Gateway: string }> };
  }>;
  const attachment = container!.NetworkSettings.Networks[network];
  if (!attachment) throw new Error(`podman inspect ${id}: no attachment to ${network}: ${JSON.stringify(container!.NetworkSettings)}`);
  return {
    id: container!.Id,
    ip: attachment.IPAddress,
    prefixLength: attachment.IPPrefixLen,
    gateway: attachment.Gateway,
    netns: container!.NetworkSettings.SandboxKey,
  };
}
