/**
 * The macvlan tests' world: a "host" network namespace of the test's own, in which the plugin
 * runs (callPlugin's `host`), holding the master: one end of a veth pair whose other end is up
 * too, so the master has carrier. Nothing is made on this machine's own interfaces. Containers
 * are namespaces; leases go to a temporary directory. `close()` removes all of it.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { callPlugin, type PluginCall, type PluginOutcome } from "../../helpers/cni.ts";
import { createNetns, ipJson, linkExists, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { randomSubnets, uniqueName } from "../../helpers/tag.ts";

export interface DetailedLink {
  ifname: string;
  address: string;
  mtu: number;
  operstate: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string; info_data?: { mode?: string; bcqueuelen?: number } };
  addr_info?: { family: string; local: string; prefixlen: number; scope: string }[];
}

export class MacvlanWorld {
  readonly host: TestNetns = createNetns("mvh");
  readonly master = uniqueName("mvm");
  readonly subnet = randomSubnets();
  readonly dir = mkdtempSync(join(tmpdir(), "macvlan-"));
  readonly network = uniqueName("mvnet");
  private readonly containers: TestNetns[] = [];

  constructor() {
    this.host.exec(["ip", "link", "add", this.master, "type", "veth", "peer", "name", `${this.master}p`]);
    this.host.exec(["ip", "link", "set", this.master, "up"]);
    this.host.exec(["ip", "link", "set", `${this.master}p`, "up"]);
  }

  container(): TestNetns {
    const netns = createNetns("mvc");
    this.containers.push(netns);
    return netns;
  }

  /** A configuration (macvlan unless `extra.type` says) on the master with host-local addresses from the world's subnet. */
  config(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      cniVersion: "1.0.0",
      name: this.network,
      type: "macvlan",
      master: this.master,
      ipam: { type: "host-local", subnet: this.subnet.v4, dataDir: this.leaseDir },
      ...extra,
    };
  }

  get leaseDir(): string {
    return join(this.dir, "leases");
  }

  /** The reserved addresses in the lease directory. */
  leases(): string[] {
    try {
      return readdirSync(join(this.leaseDir, this.network)).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name));
    } catch {
      return [];
    }
  }

  /** Runs a plugin (ours unless a path is given) with the world's namespace as its host. */
  call(netns: TestNetns | string, command: PluginCall["command"], config: Record<string, unknown>, options: Partial<PluginCall> & { plugin?: string; ifname?: string; containerId?: string } = {}): PluginOutcome {
    const { plugin = join(OUR_BIN, "macvlan"), ...rest } = options;
    return callPlugin(plugin, {
      command,
      config,
      containerId: options.containerId ?? "mvcontainer",
      netns: typeof netns === "string" ? netns : netns.path,
      ifname: options.ifname ?? "eth0",
      host: this.host.name,
      ...rest,
    });
  }

  /** The container's interface as `ip -d addr` shows it; undefined when it is not there. */
  link(netns: TestNetns, ifname = "eth0"): DetailedLink | undefined {
    if (!linkExists(ifname, netns.name)) return undefined;
    return ipJson<DetailedLink[]>(["-d", "addr", "show", "dev", ifname], netns.name)[0];
  }

  /** ping from one container to an address: whether it was answered within two seconds. */
  reaches(from: TestNetns, address: string): boolean {
    try {
      from.exec(["ping", "-c", "1", "-W", "2", address]);
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    for (const netns of this.containers.splice(0)) netns.remove();
    this.host.remove();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A maker of worlds for the tests of one file (or describe block): each world is closed after
 * the test that made it, whether it passed or failed.
 */
export function worldPerTest(): () => MacvlanWorld {
  const worlds: MacvlanWorld[] = [];
  afterEach(() => {
    for (const world of worlds.splice(0)) world.close();
  });
  return () => {
    const made = new MacvlanWorld();
    worlds.push(made);
    return made;
  };
}

export function ipv4(result: { ips?: { address: string }[] }): string {
  return result.ips![0]!.address.split("/")[0]!;
}

/** Whether this kernel can make links of `kind` (tried in a throwaway namespace of the test's own). */
export function kernelCanCreate(kind: "ipvlan" | "vlan"): boolean {
  const netns = createNetns("mvk");
  try {
    netns.exec(["ip", "link", "add", "probe0", "type", "veth", "peer", "name", "probe1"]);
    const extra = kind === "vlan" ? ["id", "5"] : [];
    netns.exec(["ip", "link", "add", "link", "probe0", "name", "probe2", "type", kind, ...extra], { timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  } finally {
    netns.remove();
  }
}
