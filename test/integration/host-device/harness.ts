import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callPlugin, type PluginCall, type PluginOutcome } from "../../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { OUR_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";

export const OUR_HOST_DEVICE = join(OUR_BIN, "host-device");
export const STATE_DIR = "/var/lib/cni/host-device";

/** A link as `ip -d link` reports it. */
export interface LinkView {
  ifname: string;
  address: string;
  mtu: number;
  ifalias?: string;
  operstate: string;
  flags: string[];
}

/**
 * A "host" namespace of the test's own holding a veth pair (the device to move and its peer,
 * which stays), and a container namespace. The plugin runs inside the host namespace, so the
 * machine's own links are never touched. `remove()` deletes both namespaces, which takes the
 * veth pair with them wherever it is.
 */
export class HostDeviceFixture {
  readonly host: TestNetns = createNetns("hdh");
  readonly container: TestNetns = createNetns("hdc");
  readonly device = uniqueName("hd");
  readonly peer = uniqueName("hdp");
  readonly containerId = uniqueName("hdid");
  readonly ifname = "net1";
  readonly scratch = mkdtempSync(join(tmpdir(), "host-device-it-"));
  readonly mac = "02:42:ac:11:00:0a";
  readonly mtu = 1400;

  constructor() {
    this.host.exec(["ip", "link", "add", this.device, "mtu", `${this.mtu}`, "address", this.mac, "type", "veth", "peer", "name", this.peer]);
    this.host.exec(["ip", "link", "set", this.peer, "up"]);
  }

  config(extra: Record<string, unknown> = {}, cniVersion = "1.0.0"): Record<string, unknown> {
    return { cniVersion, name: "hdnet", type: "host-device", device: this.device, ...extra };
  }

  call(binary: string, command: PluginCall["command"], config: object, options: Partial<PluginCall> = {}): PluginOutcome {
    return callPlugin(binary, {
      command,
      config,
      containerId: this.containerId,
      netns: this.container.path,
      ifname: this.ifname,
      host: this.host.name,
      ...options,
    });
  }

  hostLink(name: string): LinkView | undefined {
    return linkIn(this.host.name, name);
  }

  containerLink(name = this.ifname): LinkView | undefined {
    return linkIn(this.container.name, name);
  }

  containerLinkNames(): string[] {
    return ipJson<LinkView[]>(["link", "show"], this.container.name).map((link) => link.ifname);
  }

  statePath(ifname = this.ifname): string {
    return join(STATE_DIR, `${this.containerId}_${ifname}.json`);
  }

  remove(): void {
    this.container.remove();
    this.host.remove();
    rmSync(this.statePath(), { force: true });
    rmSync(this.scratch, { recursive: true, force: true });
  }
}

export function linkIn(netns: string, name: string): LinkView | undefined {
  try {
    return ipJson<LinkView[]>(["-d", "link", "show", "dev", name], netns)[0];
  } catch {
    return undefined;
  }
}

export function stateExists(path: string): boolean {
  return existsSync(path);
}

export function ip(netns: string, ...args: string[]): string {
  return execFileSync("ip", ["-n", netns, ...args], { encoding: "utf8" });
}
