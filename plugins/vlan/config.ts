import { z } from "zod";
import { netConfSchema, parseWithSchema } from "../../lib/skel/index.ts";

export const vlanConfigSchema = netConfSchema.extend({
  master: z
    .string()
    .min(1, "is required: the interface to create the VLAN on")
    .max(15, "an interface name is at most 15 bytes")
    .describe("Interface the VLAN link is created on (required)"),
  vlanId: z.number().int().min(0, "must be between 0 and 4094").max(4094, "must be between 0 and 4094").default(0).describe("802.1Q VLAN ID (0-4094)"),
  mtu: z.number().int().min(0).max(2 ** 31 - 1).default(0).describe("MTU of the VLAN link, at most the master's (0: the master's)"),
  linkInContainer: z.boolean().default(false).describe("Look the master up inside the container's namespace instead of the host's"),
});

export type VlanConfig = z.infer<typeof vlanConfigSchema>;

export function parseVlanConfig(raw: Record<string, unknown>): VlanConfig {
  return parseWithSchema(vlanConfigSchema, raw);
}
