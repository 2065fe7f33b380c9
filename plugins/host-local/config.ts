import { z } from "zod";
import {
  normalizeIpamConfig,
  requestedFromCniArgs,
  requestedFromConfig,
  type IpamConfig,
  type RequestedIP,
} from "../../lib/ipam/index.ts";
import { netConfSchema, parseWithSchema, type ConfigContext, type NetConf } from "../../lib/skel/index.ts";

/**
 * host-local's configuration: the schema of what users write (exported for JSON Schema
 * generation) and its parsing into the validated IpamConfig.
 */

const address = z.string().nullish();

const rangeSchema = z.looseObject({
  subnet: z.string().describe("Subnet to allocate from, in CIDR notation"),
  rangeStart: address.describe("First address to allocate (default: the subnet's second address)"),
  rangeEnd: address.describe("Last address to allocate (default: the last address, for IPv4 the one before broadcast)"),
  gateway: address.describe("Gateway returned with addresses of this range (default: the subnet's second address)"),
});

const rangeSetsSchema = z
  .array(z.array(rangeSchema).describe("A range set: one address is allocated from these ranges, all of one family"))
  .nullish();

const routeSchema = z.looseObject({
  dst: z.string().describe("Destination in CIDR notation"),
  gw: address.describe("Next hop; the interface's gateway when omitted"),
  mtu: z.number().int().optional(),
  advmss: z.number().int().optional(),
  priority: z.number().int().optional(),
  table: z.number().int().optional(),
  scope: z.number().int().optional(),
});

export const ipamSchema = z.looseObject({
  type: z.string().describe('The IPAM plugin: "host-local"'),
  ranges: rangeSetsSchema.describe("Range sets: one address is allocated from each"),
  subnet: z.string().nullish().describe("Legacy single range: subnet (becomes the first range set)"),
  rangeStart: address.describe("Legacy single range: first address"),
  rangeEnd: address.describe("Legacy single range: last address"),
  gateway: address.describe("Legacy single range: gateway"),
  routes: z.array(routeSchema).nullish().describe("Routes returned in the result"),
  dataDir: z.string().nullish().describe("Directory of the lease store (default /var/lib/cni/networks)"),
  resolvConf: z.string().nullish().describe("resolv.conf file whose settings are returned as the result's dns"),
});

export const hostLocalConfigSchema = netConfSchema.extend({
  ipam: ipamSchema.describe("host-local settings"),
  runtimeConfig: z
    .looseObject({
      ips: z.array(z.string()).nullish().describe("Capability `ips`: addresses to allocate"),
      ipRanges: rangeSetsSchema.describe("Capability `ipRanges`: range sets allocated before those of ipam"),
    })
    .optional(),
  args: z
    .looseObject({
      cni: z.looseObject({ ips: z.array(z.string()).nullish().describe("Addresses to allocate") }).nullish(),
    })
    .optional(),
});

export type HostLocalConfig = NetConf & {
  ipamConfig: IpamConfig;
  /** ADD: the addresses asked for, from CNI_ARGS IP, args.cni.ips and runtimeConfig.ips, in that order. */
  requestedIPs: RequestedIP[];
};

/**
 * Parses the stdin configuration (codes 7 and 1 from normalizeIpamConfig) and, for ADD, the
 * addresses asked for (CNI_ARGS IP is refused on other keys unless IgnoreUnknown, code 4).
 */
export function parseHostLocalConfig(raw: Record<string, unknown>, context: Pick<ConfigContext, "command" | "attachment">): HostLocalConfig {
  const config = parseWithSchema(hostLocalConfigSchema, raw);
  const ipamConfig = normalizeIpamConfig({
    name: config.name,
    // As libcni and the dispatcher read it: an empty cniVersion is 0.1.0.
    cniVersion: config.cniVersion === "" ? "0.1.0" : config.cniVersion,
    ipam: config.ipam,
    ipRanges: config.runtimeConfig?.ipRanges,
  });
  const requestedIPs = [
    ...requestedFromConfig(config.args?.cni?.ips, "args.cni.ips"),
    ...requestedFromConfig(config.runtimeConfig?.ips, "runtimeConfig.ips"),
  ];
  if (context.command !== "ADD" || !context.attachment) return { ...config, ipamConfig, requestedIPs };
  const { args } = context.attachment;
  args.requireKnown(["IP"]);
  return { ...config, ipamConfig, requestedIPs: [...requestedFromCniArgs(args.get("IP")), ...requestedIPs] };
}
