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
    firewall: { type: "firewall", backend: "iptables" },
    "host-local": { type: "host-local", ipam: { type: "host-local", subnet: "10.199.1.0/24", dataDir: join(scratch, "leases") } },
    loopback: { type: "loopback" },
    portmap: { type: "portmap", runtimeConfig: { portMappings: [{ hostPort: 18080, containerPort: 80 }] } },
    sbr: { type: "sbr" },
    static: { type: "static", ipam: { type: "static", addresses: [{ address: "10.199.2.5/24" }] } },
    tuning: { type: "tuning", dataDir: join(scratch, "tuning") },
    vrf: { type: "vrf", vrfname: "vrf0" },
  };
}
