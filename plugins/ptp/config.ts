import { z } from "zod";
import { ipamType } from "../../lib/invoke/index.ts";
import { invalidConfig, netConfSchema, parseWithSchema, type ConfigContext } from "../../lib/skel/index.ts";

export const ptpConfigSchema = netConfSchema.extend({
  ipMasq: z.boolean().default(false).describe("Masquerade traffic from the container to destinations outside its subnets"),
  ipMasqBackend: z.enum(["iptables", "nftables"]).optional().describe("Firewall backend for ipMasq (chosen as the reference does when unset)"),
  mtu: z.number().int().min(0).max(65535).default(0).describe("MTU of both ends of the veth pair (0: kernel default)"),
});

export type PtpConfig = z.infer<typeof ptpConfigSchema>;

/**
 * The configuration, with the one rule the reference enforces by failing later: ADD needs an
 * IPAM plugin (a point-to-point link without addresses routes nothing). DEL, CHECK, STATUS and
 * GC accept a configuration without one, so that what was never added can still be deleted.
 */
export function parsePtpConfig(raw: Record<string, unknown>, context: ConfigContext): PtpConfig {
  const config = parseWithSchema(ptpConfigSchema, raw);
  if (context.command === "ADD" && !ipamType(config)) {
    throw invalidConfig("ipam", config.ipam ?? undefined, "ptp needs an IPAM plugin (ipam.type) to address the point-to-point link");
  }
  return config;
}
