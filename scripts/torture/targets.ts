/**
 * The plugins the torture suite runs, one entry each: adding a plugin to the suite is adding
 * its entry here (see README.md, "Adding a plugin"). An entry names the executable, says what
 * kind of plugin it is (which decides what each case prepares for it), and gives seed
 * configurations: valid requests a runtime could send, which the fuzzer then mutates. Host
 * state the plugin keeps on purpose for every attachment (a bridge, shared chains) is named in
 * shared.ts.
 */
import { execFileSync } from "node:child_process";

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
  /** Where the target's daemon listens (in the world's directory); nothing listens there when it has none. */
  daemonSocket: string;
}

export interface TortureTarget {
  /** The executable's name in the plugin directory. */
  plugin: string;
  kind: TargetKind;
  /** Valid configurations; cases mutate one of them (in turn). GC and STATUS cases use cniVersion 1.1.0. */
  seeds(context: SeedContext): Record<string, unknown>[];
  /**
   * A service the plugin talks to (dhcp's daemon): each world starts the suite's own executable
   * with these arguments in its host namespace, listening on `socket` (the seeds' daemonSocket),
   * and stops it with the world. Its death during a case is a crash of that case.
   */
  daemon?(socket: string): string[];
  /**
   * Makes what the plugin needs in the world's host namespace `host` (the master of macvlan,
   * ipvlan and vlan) before the world's baseline is taken, so it is the world's, not residue.
   */
  prepareHost?(host: string): void;
}

/** The master of link-on-master plugins: one end of a veth pair in the world's host namespace, both ends up. */
const MASTER = "ttmaster0";
function makeMaster(host: string): void {
  const ip = (...args: string[]) => execFileSync("ip", ["-n", host, ...args]);
  ip("link", "add", MASTER, "type", "veth", "peer", "name", `${MASTER}p`);
  ip("link", "set", MASTER, "up");
  ip("link", "set", `${MASTER}p`, "up");
}


const hostLocal = (context: SeedContext, extra: Record<string, unknown> = {}) => ({
  type: "host-local",
  dataDir: context.dataDir,
  ranges: [[{ subnet: context.subnet4, gateway: context.gateway4 }], [{ subnet: context.subnet6 }]],
  routes: [{ dst: "0.0.0.0/0" }],
  ...extra,
});

/** The batch's subnets with host part `host`: "10.77.3.<host>/24", "fd77:3::<host>/64". */
const hostIn = (context: SeedContext, host: number) => ({
  v4: context.subnet4.replace(/0\/24$/, `${host}/24`),
  v6: context.subnet6.replace(/::\/64$/, `::${host.toString(16)}/64`),
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
    plugin: "tap",
    kind: "main",
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "tap", mac: "02:54:50:00:00:01", mtu: 1400, multiQueue: true, owner: 107, group: 107, ipam: hostLocal(context) },
      { cniVersion: "0.4.0", name: context.network, type: "tap", selinuxContext: "system_u:system_r:container_t:s0", runtimeConfig: { mac: "02:54:50:00:00:02" } },
    ],
  },
  {
    // A world's host namespace has no device to spare, so every ADD is refused (code 7, device
    // not found): what is fuzzed is the configuration, the refusal and DEL in every state.
    plugin: "host-device",
    kind: "main",
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "host-device", device: "ttnodev0", ipam: hostLocal(context) },
      { cniVersion: "0.4.0", name: context.network, type: "host-device", hwaddr: "02:54:50:00:00:03", runtimeConfig: { deviceID: "0000:00:19.0" } },
      { cniVersion: "1.0.0", name: context.network, type: "host-device", kernelpath: "/sys/devices/pci0000:00/0000:00:19.0" },
    ],
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
    plugin: "sbr",
    kind: "meta",
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "sbr", prevResult: context.prevResult },
      { cniVersion: "1.0.0", name: context.network, type: "sbr", table: 4242, prevResult: context.prevResult },
      { cniVersion: "0.4.0", name: context.network, type: "sbr", gateways: [context.gateway4], addSourceHints: true, prevResult: context.prevResult },
    ],
  },
  {
    // This host's kernel has no vrf module: every ADD here is code 2, and the fuzzing covers
    // the configuration, DEL and CHECK (test/kernel/vrf.test.ts runs it live).
    plugin: "vrf",
    kind: "meta",
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "vrf", vrfname: "vrf-blue", prevResult: context.prevResult },
      { cniVersion: "0.3.1", name: context.network, type: "vrf", vrfname: "vrf-red", table: 1001, prevResult: context.prevResult },
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
  {
    plugin: "static",
    kind: "ipam",
    seeds: (context) => [
      {
        cniVersion: "1.0.0",
        name: context.network,
        type: "bridge",
        ipam: {
          type: "static",
          addresses: [
            { address: hostIn(context, 5).v4, gateway: context.gateway4 },
            { address: hostIn(context, 5).v6, gateway: hostIn(context, 1).v6.replace(/\/64$/, "") },
          ],
          routes: [{ dst: "0.0.0.0/0" }, { dst: "192.0.2.0/24", gw: context.gateway4 }, { dst: "::/0" }],
          dns: { nameservers: ["192.0.2.53"], domain: "example.org", search: ["example.org"], options: ["ndots:2"] },
        },
      },
      {
        cniVersion: "0.3.1",
        name: context.network,
        type: "macvlan",
        capabilities: { ips: true },
        runtimeConfig: { ips: [hostIn(context, 7).v4] },
        args: { cni: { ips: [hostIn(context, 8).v4] } },
        ipam: { type: "static", addresses: [{ address: hostIn(context, 6).v4 }] },
      },
      {
        cniVersion: "1.1.0",
        name: context.network,
        type: "ptp",
        ipam: { type: "static", addresses: [{ address: hostIn(context, 9).v6 }], routes: [{ dst: "::/0", mtu: 1400, advmss: 1360, priority: 10, table: 100, scope: 0 }] },
      },
    ],
  },
  {
    plugin: "dhcp",
    kind: "ipam",
    // The world's daemon: the container namespace has no interface to get a lease on, so ADD
    // answers quickly; -timeout and -resendmax keep anything that does reach DHCP short.
    daemon: (socket) => ["daemon", "-socketpath", socket, "-timeout", "2s", "-resendmax", "2s"],
    seeds: (context) => [
      {
        cniVersion: "1.0.0",
        name: context.network,
        type: "macvlan",
        ipam: {
          type: "dhcp",
          daemonSocketPath: context.daemonSocket,
          provide: [{ option: "host-name", fromArg: "K8S_POD_NAME" }, { option: "12", value: "torture" }],
          request: [{ option: "subnet-mask", skipDefault: true }, { option: "routers" }],
          priority: 5,
        },
      },
      // No daemon listens here: every command must still answer an error object (or succeed, DEL).
      { cniVersion: "0.4.0", name: context.network, type: "bridge", ipam: { type: "dhcp", daemonSocketPath: `${context.dataDir}/nobody.sock` } },
    ],
  },
  {
    plugin: "ptp",
    kind: "main",
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "ptp", ipMasq: true, mtu: 1400, ipam: hostLocal(context) },
      {
        cniVersion: "0.4.0",
        name: context.network,
        type: "ptp",
        ipMasq: true,
        ipMasqBackend: "nftables",
        dns: { nameservers: ["192.0.2.53"], search: ["example.org"] },
        ipam: { type: "host-local", dataDir: context.dataDir, subnet: context.subnet4, resolvConf: context.resolvConf },
      },
    ],
  },
  {
    plugin: "dummy",
    kind: "main",
    // On a kernel without dummy links every ADD is code 2: the cases then prove it leaves nothing.
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "dummy", ipam: hostLocal(context) },
      { cniVersion: "0.3.1", name: context.network, type: "dummy", ipam: { type: "host-local", dataDir: context.dataDir, subnet: context.subnet4 } },
    ],
  },
  {
    plugin: "macvlan",
    kind: "main",
    prepareHost: makeMaster,
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "macvlan", master: MASTER, ipam: hostLocal(context) },
      { cniVersion: "0.4.0", name: context.network, type: "macvlan", master: MASTER, mode: "private", mtu: 1400, bcqueuelen: 100, mac: "02:00:00:00:00:0a", ipam: { type: "host-local", dataDir: context.dataDir, subnet: context.subnet4 } },
      { cniVersion: "1.0.0", name: context.network, type: "macvlan", master: MASTER, mode: "vepa", runtimeConfig: { mac: "02:00:00:00:00:0b" } },
    ],
  },
  {
    // On a kernel without ipvlan (or 8021q, below) every ADD is code 2, and must leave nothing.
    plugin: "ipvlan",
    kind: "main",
    prepareHost: makeMaster,
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "ipvlan", master: MASTER, mode: "l2", ipam: hostLocal(context) },
      { cniVersion: "0.4.0", name: context.network, type: "ipvlan", master: MASTER, mode: "l3s", mtu: 1400, ipam: { type: "host-local", dataDir: context.dataDir, subnet: context.subnet4 } },
    ],
  },
  {
    plugin: "vlan",
    kind: "main",
    prepareHost: makeMaster,
    seeds: (context) => [
      { cniVersion: "1.0.0", name: context.network, type: "vlan", master: MASTER, vlanId: 100, ipam: hostLocal(context) },
      { cniVersion: "0.3.1", name: context.network, type: "vlan", master: MASTER, vlanId: 4094, mtu: 1400, dns: { nameservers: ["192.0.2.53"] }, ipam: { type: "host-local", dataDir: context.dataDir, subnet: context.subnet4 } },
    ],
  },
];

