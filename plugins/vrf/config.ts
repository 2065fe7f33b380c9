import { z } from "zod";
import { type ConfigContext, netConfSchema, parseWithSchema, type NetConf } from "../../lib/skel/index.ts";

/** vrf's configuration: the schema of what users write (exported for JSON Schema generation). */

export const vrfConfigSchema = netConfSchema.extend({
  vrfname: z
    .string()
    .min(1, "must name the VRF")
    .max(15, "must be at most 15 bytes, the longest interface name")
    .regex(/^[^/\s:]+$/, "must be an interface name: no '/', ':' or white space")
    .refine((name) => name !== "." && name !== "..", "must be an interface name, not '.' or '..'")
    .describe("Name of the VRF device in the container's namespace, created when absent"),
  table: z
    .number()
    .int("must be a whole number")
    .min(0, "must be a routing table id (0: the first free one)")
    .max(2 ** 32 - 1, `must be at most ${2 ** 32 - 1}`)
    .nullish()
    .describe("Routing table of a VRF this plugin creates (0 or unset: the first table from 1 no other VRF uses); an existing VRF must have it"),
});

const delSchema = netConfSchema.extend({ vrfname: z.string().min(1, "must name the VRF") });

/** The configuration as every command works with it. */
export interface VrfConfig extends NetConf {
  vrfname: string;
  /** Undefined: the first free table for a new VRF, any table for an existing one. */
  table?: number;
}

export function parseVrfConfig(raw: Record<string, unknown>, context: Pick<ConfigContext, "command">): VrfConfig {
  if (context.command === "DEL") {
    // DEL looks the VRF up by name: a name or table ADD would refuse finds nothing to undo.
    const { cniVersion, name, type, vrfname } = parseWithSchema(delSchema, raw);
    return { cniVersion, name, type, vrfname };
  }
  const { cniVersion, name, type, vrfname, table } = parseWithSchema(vrfConfigSchema, raw);
  return { cniVersion, name, type, vrfname, ...(table != null && table !== 0 && { table }) };
}
