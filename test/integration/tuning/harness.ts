import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { callPlugin, mustCall, type PluginCall, type PluginOutcome } from "../../helpers/cni.ts";
import { createNetns, ipJson, type TestNetns } from "../../helpers/netns.ts";
import { createTestNetwork, type TestNetwork } from "../../helpers/network.ts";
import { OUR_BIN, REFERENCE_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";

export const OUR_TUNING = join(OUR_BIN, "tuning");
export const REFERENCE_TUNING = join(REFERENCE_BIN, "tuning");

/** The container interface's settings as `ip -d link` reports them. */
export interface LinkView {
  mtu: number;
  mac: string;
  promisc: boolean;
  allmulti: boolean;
  txqlen: number;
}

/**
 * One container attached to a fresh bridge network by our bridge + host-local, ready for tuning
 * to be chained after it: its namespace, container ID, a private tuning data directory, and the
 * bridge's result as prevResult. `remove()` undoes all of it, whatever state the test left.
 */
export class TuningContainer {
  readonly network: TestNetwork = createTestNetwork({ dualStack: false });
  readonly netns: TestNetns = createNetns("tun");
  readonly containerId = uniqueName("tun");
  readonly ifname = "eth0";
  readonly dataDir = mkdtempSync(join(tmpdir(), "tuning-it-"));
  prevResult: Record<string, unknown> | undefined;

  /** bridge ADD: creates eth0 in the namespace and keeps the result for tuning. */
  attach(cniVersion = "1.0.0"): Record<string, unknown> {
    this.prevResult = mustCall("bridge", this.bridgeCall("ADD", cniVersion)).json as Record<string, unknown>;
    return this.prevResult;
  }

  detach(): void {
    mustCall("bridge", this.bridgeCall("DEL", "1.0.0"));
  }

  /** A tuning configuration for this network, chained after the bridge's result. */
  config(settings: Record<string, unknown>, options: { cniVersion?: string; prevResult?: boolean } = {}): Record<string, unknown> {
    return {
      cniVersion: options.cniVersion ?? "1.0.0",
      name: this.network.name,
      type: "tuning",
      dataDir: this.dataDir,
      ...settings,
      ...(options.prevResult === false ? {} : { prevResult: this.prevResult }),
    };
  }

  /** Runs a tuning binary (ours unless given) for this container. */
  tuning(command: PluginCall["command"], config: object, options: { binary?: string; args?: string; netns?: string } = {}): PluginOutcome {
    return callPlugin(options.binary ?? OUR_TUNING, {
      command,
      config,
      containerId: this.containerId,
      netns: options.netns ?? this.netns.path,
      ifname: this.ifname,
      args: options.args,
    });
  }

  link(): LinkView {
    const [link] = ipJson<{ mtu: number; address: string; flags: string[]; txqlen: number }[]>(["-d", "link", "show", "dev", this.ifname], this.netns.name);
    if (!link) throw new Error(`${this.ifname} not found in ${this.netns.name}`);
    return { mtu: link.mtu, mac: link.address, promisc: link.flags.includes("PROMISC"), allmulti: link.flags.includes("ALLMULTI"), txqlen: link.txqlen };
  }

  /** A sysctl's value inside the container namespace, read from /proc/sys by a process in it. */
  sysctl(path: string): string {
    return this.netns.exec(["cat", `/proc/sys/${path}`]).trim();
  }

  savedStatePath(): string {
    return join(this.dataDir, `${this.containerId}_${this.ifname}.json`);
  }

  remove(): void {
    this.netns.remove();
    this.network.cleanup();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  private bridgeCall(command: "ADD" | "DEL", cniVersion: string): PluginCall {
    return { command, config: this.network.bridgeConfig({}, cniVersion), containerId: this.containerId, netns: this.netns.path, ifname: this.ifname };
  }
}
