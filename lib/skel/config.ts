import { z } from "zod";
import { CniError, ErrorCode } from "../core/index.ts";
import { decodeJson } from "./json.ts";

const NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/**
 * The keys every plugin configuration may carry (SPEC.md section 3). Plugins extend this schema
 * with their own keys; unknown keys pass through, as the reference plugins ignore them too.
 */
export const netConfSchema = z.looseObject({
  cniVersion: z.string().default("0.1.0").describe("CNI spec version of this configuration and of the result"),
  name: z
    .string()
    .regex(NAME_PATTERN, "must start with a letter or digit and contain only letters, digits, '_', '.' and '-'")
    .describe("Network name"),
  type: z.string().describe("Plugin executable name"),
  runtimeConfig: z.looseObject({}).optional().describe("Capability arguments from the runtime"),
  args: z.looseObject({}).optional().describe("Arguments from the runtime (args.cni.*)"),
  prevResult: z.looseObject({}).optional().describe("Result of the previous plugin in the chain"),
  // As in the reference (a Go struct and string), null and a missing or empty type all mean "no
  // IPAM": `"ipam": {}` is how layer-2 examples write it, and DEL must accept what ADD did.
  ipam: z
    .looseObject({ type: z.string().nullish() })
    .nullish()
    .describe('IPAM plugin configuration; without a type ("ipam": {}) no IPAM plugin runs'),
  dns: z
    .object({
      nameservers: z.array(z.string()).optional(),
      domain: z.string().optional(),
      search: z.array(z.string()).optional(),
      options: z.array(z.string()).optional(),
    })
    .optional()
    .describe("DNS settings"),
});

export type NetConf = z.infer<typeof netConfSchema>;

/**
 * Decodes stdin as a JSON object: code 6 when it is not JSON or nested too deep (json.ts), 7
 * when it is not an object.
 */
export function decodeConfig(stdin: Buffer): Record<string, unknown> {
  const value = decodeJson(stdin.toString("utf8"), "network configuration on stdin");
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new CniError(ErrorCode.InvalidConfig, "invalid config: the network configuration must be a JSON object");
  }
  return value as Record<string, unknown>;
}
