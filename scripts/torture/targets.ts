/**
 * The plugins the torture suite runs, one entry each: adding a plugin to the suite is adding
 * its entry here (see README.md, "Adding a plugin"). An entry names the executable, says what
 * kind of plugin it is (which decides what each case prepares for it), and gives seed
 * configurations: valid requests a runtime could send, which the fuzzer then mutates. Host
 * state the plugin keeps on purpose for every attachment (a bridge, shared chains) is named in
 * shared.ts.
 */

/** What a case prepares for the plugin before calling it. */
export type TargetKind =
  /** Creates the container's interface: each case gets a fresh container namespace. */
  | "main"
  /** Manages addresses only: called directly, with a container namespace that exists. */
  | "ipam"
  /**
   * Works on an attachment an earlier plugin made: each batch makes one with bridge (the suite's
   * own) and every case receives its result as prevResult, the container's `eth0` as CNI_IFNAME.
   */
  | "meta";

/** The batch's resources a seed may name. */
export interface SeedContext {
  /** Network name, unique to the batch. */
  network: string;
  /** A bridge name for the batch (main plugins that use a bridge). */
  bridge: string;
  subnet4: string;
  gateway4: string;
  subnet6: string;
  /** A data directory of the batch's own (leases, saved settings). */
  dataDir: string;
  /** A small, valid resolv.conf. */
  resolvConf: string;
  /** A host port free in the batch's host namespace. */
  hostPort: number;
  /** meta: the attachment's result (1.0.0 shape: interfaces bridge, host veth, container eth0; ips). */
  prevResult: Record<string, unknown> | undefined;
}

export interface TortureTarget {
  /** The executable's name in the plugin directory. */
  plugin: string;
  kind: TargetKind;
  /** Valid configurations; cases mutate one of them (in turn). GC and STATUS cases use cniVersion 1.1.0. */
  seeds(context: SeedContext): Record<string, unknown>[];
  /** Why the plugin cannot be fuzzed on this kernel, when it cannot (a missing link type). */
  unavailable?(): string | undefined;
}

const hostLocal = (context: SeedContext, extra: Record<string, unknown> = {}) => ({
  type: "host-local",
  dataDir: context.dataDir,
  ranges: [[{ subnet: context.subnet4, gateway: context.gateway4 }], [{ subnet: context.subnet6 }]],
  routes: [{ dst: "0.0.0.0/0" }],
  ...extra,
});

export const TARGETS: readonly TortureTarget[] = [
  {
    plugin: "bridge",
    kind: "main",
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "bridge", bridge: context.bridge, isGateway: true, ipMasq: true, ipam: hostLocal(context) },
      {
        cniVersion: "0.4.0",
        name: context.network,
        type: "bridge",
        bridge: context.bridge,
        isDefaultGateway: true,
        hairpinMode: true,
        macspoofchk: true,
        mtu: 1400,
        ipam: { type: "host-local", dataDir: context.dataDir, subnet: context.subnet4, resolvConf: context.resolvConf },
      },
      { cniVersion: "0.3.1", name: context.network, type: "bridge", bridge: context.bridge, ipMasq: true, ipMasqBackend: "nftables", promiscMode: true, ipam: hostLocal(context) },
    ],
  },
  {
    plugin: "loopback",
    kind: "main",
    seeds: (context) => [{ cniVersion: "1.0.0", name: context.network, type: "loopback" }],
  },
  {
    plugin: "host-local",
    kind: "ipam",
    seeds: (context) => [
      // As a main plugin delegates: its own configuration, type included.
      { cniVersion: "1.0.0", name: context.network, type: "bridge", ipam: hostLocal(context, { resolvConf: context.resolvConf }) },
      {
        cniVersion: "0.3.1",
        name: context.network,
        type: "ptp",
        ipam: { type: "host-local", dataDir: context.dataDir, subnet: context.subnet4, rangeStart: context.subnet4.replace(/0\/24$/, "100"), routes: [{ dst: "10.0.0.0/8" }] },
      },
    ],
  },
  {
    plugin: "portmap",
    kind: "meta",
    seeds: (context) => [
      {
        cniVersion: "1.0.0",
        name: context.network,
        type: "portmap",
        snat: true,
        capabilities: { portMappings: true },
        runtimeConfig: { portMappings: [{ hostPort: context.hostPort, containerPort: 80, protocol: "tcp" }, { hostPort: context.hostPort + 1, containerPort: 53, protocol: "udp" }] },
        prevResult: context.prevResult,
      },
      {
        cniVersion: "1.0.0",
        name: context.network,
        type: "portmap",
        backend: "nftables",
        runtimeConfig: { portMappings: [{ hostPort: context.hostPort, containerPort: 80, protocol: "tcp", hostIP: "127.0.0.1" }] },
        prevResult: context.prevResult,
      },
    ],
  },
  {
    plugin: "firewall",
    kind: "meta",
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "firewall", backend: "iptables", prevResult: context.prevResult },
      { cniVersion: "0.4.0", name: context.network, type: "firewall", backend: "iptables", ingressPolicy: "same-bridge", prevResult: context.prevResult },
    ],
  },
  {
    plugin: "tuning",
    kind: "meta",
    seeds: (context) => [
      {
        cniVersion: "1.0.0",
        name: context.network,
        type: "tuning",
        dataDir: context.dataDir,
        sysctl: { "net.core.somaxconn": "512", "net.ipv4.conf.IFNAME.arp_notify": "1" },
        mtu: 1400,
        promisc: true,
        mac: "c2:b0:57:49:47:f1",
        prevResult: context.prevResult,
      },
      { cniVersion: "1.0.0", name: context.network, type: "tuning", dataDir: context.dataDir, txQLen: 500, allmulti: true, prevResult: context.prevResult },
    ],
  },
  {
    plugin: "bandwidth",
    kind: "meta",
    seeds: (context) => [
      {
        cniVersion: "1.0.0",
        name: context.network,
        type: "bandwidth",
        ingressRate: 8_000_000,
        ingressBurst: 80_000,
        egressRate: 8_000_000,
        egressBurst: 80_000,
        prevResult: context.prevResult,
      },
      {
        cniVersion: "1.0.0",
        name: context.network,
        type: "bandwidth",
        capabilities: { bandwidth: true },
        runtimeConfig: { bandwidth: { ingressRate: 1_000_000, ingressBurst: 10_000 } },
        prevResult: context.prevResult,
      },
    ],
  },
];
