import { z } from "zod";
import { netConfSchema, parseWithSchema, type ConfigContext, type NetConf } from "../../lib/skel/index.ts";

/** static's configuration: what users write (exported for JSON Schema generation), parsed with zod. */

const addressSchema = z.looseObject({
  address: z.string().describe("The address with its prefix length (CIDR), e.g. 10.10.0.5/24 or fd00:10::5/64"),
  gateway: z.string().nullish().describe("Gateway returned with this address"),
});

const routeSchema = z.looseObject({
  dst: z.string().describe("Destination in CIDR notation"),
  gw: z.string().nullish().describe("Next hop; the interface's gateway when omitted"),
  mtu: z.number().int().optional(),
  advmss: z.number().int().optional(),
  priority: z.number().int().optional(),
  table: z.number().int().optional(),
  scope: z.number().int().optional(),
});

const dnsSchema = z.looseObject({
  nameservers: z.array(z.string()).nullish(),
  domain: z.string().nullish(),
  search: z.array(z.string()).nullish(),
  options: z.array(z.string()).nullish(),
});

const ipsSchema = z.array(z.string()).nullish();

export const staticConfigSchema = netConfSchema.extend({
  ipam: z
    .looseObject({
      type: z.string().describe('The IPAM plugin: "static"'),
      addresses: z.array(addressSchema).nullish().describe("Addresses to assign, each with an optional gateway"),
      routes: z.array(routeSchema).nullish().describe("Routes returned in the result"),
      dns: dnsSchema.nullish().describe("DNS settings returned in the result"),
    })
    .describe("static settings"),
  runtimeConfig: z
    .looseObject({ ips: ipsSchema.describe("Capability `ips`: addresses (CIDR) that replace all others") })
    .optional(),
  args: z
    .looseObject({
      cni: z.looseObject({ ips: ipsSchema.describe("Addresses (CIDR) that replace those of ipam.addresses and CNI_ARGS") }).nullish(),
    })
    .optional(),
});

export type StaticConfigInput = z.infer<typeof staticConfigSchema>;

/**
 * What a command reads: the whole configuration, or for DEL and GC (which have nothing to undo)
 * only the keys every configuration has, since a configuration the reference accepted (it
 * reads nothing on DEL) must never make DEL fail.
 */
export type StaticConfig = (StaticConfigInput & { reads: "all" }) | (NetConf & { reads: "names" });

export function parseStaticConfig(raw: Record<string, unknown>, { command }: ConfigContext): StaticConfig {
  if (command === "DEL" || command === "GC") {
    const { cniVersion, name, type } = parseWithSchema(netConfSchema, raw);
    return { cniVersion, name, type, reads: "names" };
  }
  return { ...parseWithSchema(staticConfigSchema, raw), reads: "all" };
}
