/**
 * The network configuration lists the scenarios run, one network per suite so the two never
 * share a bridge, a subnet or a lease directory.
 */
import { randomInt } from "node:crypto";
import { networkConfigListFromBytes, type NetworkConfigList } from "../../lib/runtime/index.ts";
import type { BenchHost } from "./host.ts";

/** Hands out distinct random subnets of 10.0.0.0/8: /24s from 10.100-199, /16s from 10.200-250. */
export class SubnetPool {
  private readonly used = new Set<string>();

  /** A /`prefix` subnet (24 to 30) inside a fresh random /24. */
  small(prefix = 24): string {
    return `${this.fresh(() => `10.${randomInt(100, 200)}.${randomInt(0, 256)}`)}.0/${prefix}`;
  }

  large(): string {
    return `${this.fresh(() => `10.${randomInt(200, 251)}`)}.0.0/16`;
  }

  private fresh(pick: () => string): string {
    for (;;) {
      const candidate = pick();
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }
}

export interface BenchNetwork {
  list: NetworkConfigList;
  bridge: string;
  dataDir: string;
  subnet: string;
}

interface NetworkRequest {
  host: BenchHost;
  subnets: SubnetPool;
  /** Short label for names: scenario and suite. */
  label: string;
  /** Subnet prefix length for the range (churn uses a small one, so addresses are reused). */
  prefix?: number;
}

function hostLocal(dataDir: string, subnet: string): Record<string, unknown> {
  return { type: "host-local", dataDir, routes: [{ dst: "0.0.0.0/0" }], ranges: [[{ subnet }]] };
}

function listOf(config: Record<string, unknown>): NetworkConfigList {
  return networkConfigListFromBytes(Buffer.from(JSON.stringify(config)));
}

/** bridge + host-local: a gateway bridge, no masquerading (netlink and IPAM only). */
export function bridgeNetwork({ host, subnets, label, prefix }: NetworkRequest): BenchNetwork {
  const bridge = host.uniqueName("cbr");
  const dataDir = host.tempDir(`${label}-leases`);
  const subnet = subnets.small(prefix);
  const list = listOf({
    cniVersion: "1.0.0",
    name: `cb-${label}-${host.tag}`,
    plugins: [{ type: "bridge", bridge, isGateway: true, ipam: hostLocal(dataDir, subnet) }],
  });
  return { list, bridge, dataDir, subnet };
}

/** The chain of plugins `podman network create` writes (podman 4, CNI backend). */
export const PODMAN_CHAIN = ["bridge", "portmap", "firewall", "tuning"] as const;
export const BANDWIDTH_CHAIN = [...PODMAN_CHAIN, "bandwidth"] as const;

/**
 * podman's list, as it writes it: cniVersion 0.4.0, a masquerading gateway bridge with hairpin
 * mode, portmap taking port mappings, firewall, tuning; optionally bandwidth after them, taking
 * the bandwidth capability as Kubernetes passes it.
 */
export function podmanNetwork({ host, subnets, label }: NetworkRequest, withBandwidth: boolean): BenchNetwork {
  const bridge = host.uniqueName("cbr");
  const dataDir = host.tempDir(`${label}-leases`);
  const subnet = subnets.small();
  const gateway = subnet.replace(/0\/24$/, "1");
  const plugins: Record<string, unknown>[] = [
    {
      type: "bridge",
      bridge,
      isGateway: true,
      ipMasq: true,
      hairpinMode: true,
      ipam: { ...hostLocal(dataDir, subnet), ranges: [[{ subnet, gateway }]] },
    },
    { type: "portmap", capabilities: { portMappings: true } },
    { type: "firewall" },
    { type: "tuning" },
  ];
  if (withBandwidth) plugins.push({ type: "bandwidth", capabilities: { bandwidth: true } });
  const list = listOf({ cniVersion: "0.4.0", name: `cb-${label}-${host.tag}`, plugins });
  return { list, bridge, dataDir, subnet };
}

/** Capability arguments for the podman chain: one published port, and a bandwidth limit. */
export function podmanCapabilities(hostPort: number): Record<string, unknown> {
  return {
    portMappings: [{ hostPort, containerPort: 80, protocol: "tcp" }],
    bandwidth: { ingressRate: 100_000_000, ingressBurst: 1_000_000, egressRate: 100_000_000, egressBurst: 1_000_000 },
  };
}

/** host-local alone, as a plugin of its own (the lease growth scenario calls it directly). */
export function hostLocalNetwork({ host, subnets, label }: NetworkRequest): BenchNetwork {
  const dataDir = host.tempDir(`${label}-leases`);
  const subnet = subnets.large();
  const list = listOf({ cniVersion: "1.0.0", name: `cb-${label}-${host.tag}`, plugins: [{ type: "host-local", ipam: hostLocal(dataDir, subnet) }] });
  return { list, bridge: "", dataDir, subnet };
}
