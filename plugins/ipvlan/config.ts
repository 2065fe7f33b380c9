import { z } from "zod";
import type { IpvlanMode } from "../../lib/netlink/index.ts";
import { netConfSchema, parseWithSchema } from "../../lib/skel/index.ts";

const MODES = ["l2", "l3", "l3s"] as const satisfies readonly IpvlanMode[];

export const ipvlanConfigSchema = netConfSchema.extend({
  master: z
    .string()
    .max(15, "an interface name is at most 15 bytes")
    .optional()
    .describe("Interface the ipvlan hangs off (default: the single interface of prevResult when chained, else the interface of the default route)"),
  mode: z.enum([...MODES, ""]).default("l2").describe('l2 (switching by MAC), l3 (routing, no broadcast) or l3s (l3 through netfilter) ("": l2)'),
  mtu: z.number().int().min(0).max(2 ** 31 - 1).default(0).describe("MTU of the ipvlan, at most the master's (0: the master's)"),
  linkInContainer: z.boolean().default(false).describe("Look the master up inside the container's namespace instead of the host's"),
});

export type IpvlanConfigInput = z.infer<typeof ipvlanConfigSchema>;

export interface IpvlanConfig extends IpvlanConfigInput {
  mode: (typeof MODES)[number];
}

/** Parses the configuration: "" for master means "not set" and "" for mode l2, as in the reference. */
export function parseIpvlanConfig(raw: Record<string, unknown>): IpvlanConfig {
  const input = parseWithSchema(ipvlanConfigSchema, raw);
  return { ...input, master: input.master || undefined, mode: input.mode || "l2" };
}
