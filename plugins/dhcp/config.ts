import { z } from "zod";
import { DEFAULT_SOCKET_PATH, dhcpIpamSchema } from "../../lib/dhcp/index.ts";
import { netConfSchema, parseWithSchema, type ConfigContext, type NetConf } from "../../lib/skel/index.ts";

/** dhcp's configuration: the network's keys and `ipam` (exported for JSON Schema generation). */
export const dhcpConfigSchema = netConfSchema.extend({ ipam: dhcpIpamSchema.describe("dhcp settings") });

/**
 * What a command reads. DEL reads only the socket path (any other key may be wrong without
 * keeping a lease alive: the reference's DEL reads nothing else either); the other commands
 * read everything, and ADD and CHECK check `provide` and `request` before calling the daemon.
 */
export type DhcpConfig = NetConf & { socketPath: string; raw: Record<string, unknown> };

export function parseDhcpConfig(raw: Record<string, unknown>, { command }: ConfigContext): DhcpConfig {
  if (command === "DEL" || command === "GC") {
    const { cniVersion, name, type } = parseWithSchema(netConfSchema, raw);
    return { cniVersion, name, type, socketPath: looseSocketPath(raw), raw };
  }
  const config = parseWithSchema(dhcpConfigSchema, raw);
  return { ...config, socketPath: config.ipam.daemonSocketPath || DEFAULT_SOCKET_PATH, raw };
}

/** ipam.daemonSocketPath if it is a string, whatever else the configuration holds. */
function looseSocketPath(raw: Record<string, unknown>): string {
  const ipamKey = Object.keys(raw).find((key) => key.toLowerCase() === "ipam");
  const ipam = ipamKey === undefined ? undefined : raw[ipamKey];
  if (typeof ipam !== "object" || ipam === null) return DEFAULT_SOCKET_PATH;
  const pathKey = Object.keys(ipam).find((key) => key.toLowerCase() === "daemonsocketpath");
  const path = pathKey === undefined ? undefined : (ipam as Record<string, unknown>)[pathKey];
  return typeof path === "string" && path !== "" ? path : DEFAULT_SOCKET_PATH;
}

export type DhcpConfigInput = z.infer<typeof dhcpConfigSchema>;
