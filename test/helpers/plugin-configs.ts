import { join } from "node:path";
import type { PluginName } from "../../plugins/index.ts";
import { uniqueName } from "./tag.ts";

/** Plugins that are IPAM plugins, whose `ipam` section is their own configuration. */
export const IPAM_PLUGINS: readonly PluginName[] = ["dhcp", "host-local", "static"];

/**
 * A small valid configuration (without cniVersion and name) for each plugin of the suite, for
 * tests that run every plugin. The type makes a plugin added to the suite need an entry here.
 * Files go below `scratch`.
 */
export function validConfigs(scratch: string): Record<PluginName, Record<string, unknown>> {
  return {
    bandwidth: { type: "bandwidth", ingressRate: 8000, ingressBurst: 8000 },
    bridge: { type: "bridge", bridge: uniqueName("shb"), ipam: { type: "host-local", subnet: "10.199.0.0/24", dataDir: join(scratch, "leases") } },
    dhcp: { type: "dhcp", ipam: { type: "dhcp", daemonSocketPath: join(scratch, "dhcp.sock") } },
    dummy: { type: "dummy", ipam: { type: "host-local", subnet: "10.199.4.0/24", dataDir: join(scratch, "leases") } },
    firewall: { type: "firewall", backend: "iptables" },
    "host-device": { type: "host-device", device: uniqueName("shd") },
    "host-local": { type: "host-local", ipam: { type: "host-local", subnet: "10.199.1.0/24", dataDir: join(scratch, "leases") } },
    ipvlan: { type: "ipvlan", master: "shipmaster0", ipam: { type: "host-local", subnet: "10.199.4.0/24", dataDir: join(scratch, "leases") } },
    loopback: { type: "loopback" },
    macvlan: { type: "macvlan", master: "shmvmaster0", ipam: { type: "host-local", subnet: "10.199.3.0/24", dataDir: join(scratch, "leases") } },
    portmap: { type: "portmap", runtimeConfig: { portMappings: [{ hostPort: 18080, containerPort: 80 }] } },
    ptp: { type: "ptp", ipam: { type: "host-local", subnet: "10.199.3.0/24", dataDir: join(scratch, "leases") } },
    sbr: { type: "sbr" },
    static: { type: "static", ipam: { type: "static", addresses: [{ address: "10.199.2.5/24" }] } },
    tap: { type: "tap" },
    tuning: { type: "tuning", dataDir: join(scratch, "tuning") },
    vlan: { type: "vlan", master: "shvlmaster0", vlanId: 10, ipam: { type: "host-local", subnet: "10.199.5.0/24", dataDir: join(scratch, "leases") } },
    vrf: { type: "vrf", vrfname: "vrf0" },
  };
}
