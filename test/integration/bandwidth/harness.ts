import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { type PluginCall, callPlugin, mustCall } from "../../helpers/cni.ts";
import { type TestNetns, createNetns, deleteLinkIfExists, linkExists } from "../../helpers/netns.ts";
import { type TestNetwork, createTestNetwork } from "../../helpers/network.ts";
import { REFERENCE_BIN } from "../../helpers/paths.ts";
import { uniqueName } from "../../helpers/tag.ts";

/**
 * Containers attached by our bridge + host-local, with bandwidth chained after them, and `tc`
 * as the independent observer of what the plugin built.
 */

export const REFERENCE_BANDWIDTH = `${REFERENCE_BIN}/bandwidth`;

export interface Rates {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

/** Rates both ways whose tbf numbers are easy to check: 2500000 and 3750000 bytes/s. */
export const TWO_WAY_RATES: Rates = { ingressRate: 20_000_000, ingressBurst: 400_000, egressRate: 30_000_000, egressBurst: 500_000 };

export interface Container {
  netns: TestNetns;
  containerId: string;
  /** The bridge ADD's result: prevResult for bandwidth. */
  prevResult: { interfaces: { name: string; mac?: string; sandbox?: string }[]; ips: { address: string }[] };
  hostVeth: string;
  /** The container's IPv4 address, without prefix length. */
  address: string;
  /** The ifb name the reference (and we) derive from network name and container ID. */
  ifb: string;
  /** A bandwidth invocation for this container; `config` overrides keys of the default config. */
  bandwidth(command: PluginCall["command"], config?: Record<string, unknown>): PluginCall;
}

/** One test's bridge network and the containers on it; cleanup removes all of it, even after failures. */
export class BandwidthScene {
  readonly network: TestNetwork = createTestNetwork({ dualStack: false });
  /** Each attached container with how to detach it from the bridge. */
  private readonly attached: { container: Container; detach: () => void }[] = [];

  attach(rates: Rates = {}): Container {
    const netns = createNetns("bw");
    const containerId = uniqueName("bwc");
    const bridgeCall = (command: PluginCall["command"]): PluginCall => ({
      command,
      containerId,
      netns: netns.path,
      ifname: "eth0",
      config: this.network.bridgeConfig(),
    });
    const container: Container = {
      netns,
      containerId,
      prevResult: { interfaces: [], ips: [] },
      hostVeth: "",
      address: "",
      ifb: ifbNameFor(this.network.name, containerId),
      bandwidth: (command, config = {}) => ({
        command,
        containerId,
        netns: netns.path,
        ifname: "eth0",
        config: {
          cniVersion: "1.0.0",
          name: this.network.name,
          type: "bandwidth",
          ...rates,
          prevResult: container.prevResult,
          ...config,
        },
      }),
    };
    // Registered before the ADD so that cleanup also covers a failed one.
    this.attached.push({ container, detach: () => callPlugin("bridge", bridgeCall("DEL")) });
    container.prevResult = mustCall("bridge", bridgeCall("ADD")).json;
    container.hostVeth = container.prevResult.interfaces[1]!.name;
    container.address = container.prevResult.ips[0]!.address.split("/")[0]!;
    return container;
  }

  cleanup(): void {
    for (const { container, detach } of this.attached.splice(0)) {
      detach();
      container.netns.remove();
      deleteLinkIfExists(container.ifb);
    }
    this.network.cleanup();
  }
}

/** Computed independently of the plugin: "bwp" + SHA-512 of network name and container ID, 15 characters. */
export function ifbNameFor(network: string, containerId: string): string {
  return `bwp${createHash("sha512").update(network + containerId).digest("hex")}`.slice(0, 15);
}

/** `tc -j <args>` parsed. */
export function tcJson<T = TcQdisc[]>(args: string[]): T {
  return JSON.parse(execFileSync("tc", ["-j", ...args], { encoding: "utf8" }) || "[]") as T;
}

/** What `ip -j -d link show` says of a link, as far as these tests look. */
export interface IpLink {
  ifname: string;
  mtu: number;
  flags: string[];
  linkinfo?: { info_kind: string };
}

export interface TcQdisc {
  kind: string;
  handle: string;
  root?: boolean;
  parent?: string;
  refcnt?: number;
  options?: { rate?: number; burst?: number; lat?: number };
}

export interface TcFilter {
  kind: string;
  pref: number;
  protocol: string;
  parent: string;
  options?: {
    fh?: string;
    flowid?: string;
    match?: { value: string; mask: string };
    actions?: { order: number; kind: string; mirred_action: string; direction: string; to_dev: string; control_action: { type: string }; index?: number; ref?: number; bind?: number }[];
  };
}

export function qdiscsOf(device: string): TcQdisc[] {
  return tcJson(["qdisc", "show", "dev", device]);
}

/** The u32 node (the entry with a match) of a device's ingress filters. */
export function redirectFilterOf(device: string): TcFilter | undefined {
  return tcJson<TcFilter[]>(["filter", "show", "dev", device, "ingress"]).find((filter) => filter.options?.match);
}

/** The device's root qdisc is the kernel's default again (veth: noqueue), and no ingress qdisc is left. */
export function isUnshaped(device: string): boolean {
  const qdiscs = qdiscsOf(device);
  return qdiscs.every((qdisc) => qdisc.kind !== "tbf" && qdisc.kind !== "ingress");
}

export { linkExists };
