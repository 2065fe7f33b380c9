import { z } from "zod";
import { CniError, ErrorCode, describeValue } from "./errors.ts";
import { foldKeysToSchema } from "./go-keys.ts";
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
  ipam: z.looseObject({ type: z.string() }).optional().describe("IPAM plugin configuration"),
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

/**
 * Parses untrusted JSON with a schema; the first problem becomes code 7 naming field and value.
 * Keys are matched to the schema ignoring case first, as the reference plugins' Go decoder does.
 */
export function parseWithSchema<S extends z.ZodType>(schema: S, raw: unknown, fieldPrefix = ""): z.infer<S> {
  const parsed = schema.safeParse(foldKeysToSchema(schema, raw));
  if (parsed.success) return parsed.data;
  throw zodIssueToError(parsed.error.issues[0]!, raw, fieldPrefix);
}

function zodIssueToError(issue: z.core.$ZodIssue, raw: unknown, fieldPrefix: string): CniError {
  const field = formatPath([...(fieldPrefix ? [fieldPrefix] : []), ...issue.path.map((key) => key as string | number)]);
  const value = valueAt(raw, issue.path as (string | number)[]);
  return new CniError(
    ErrorCode.InvalidConfig,
    `invalid config: ${field || "(root)"}=${describeValue(value)}: ${issue.message}`,
  );
}

export function formatPath(path: (string | number)[]): string {
  return path
    .map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? key : `.${key}`))
    .join("");
}

function valueAt(raw: unknown, path: (string | number)[]): unknown {
  let current = raw;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
