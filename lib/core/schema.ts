import type { z } from "zod";
import { CniError, ErrorCode, describeValue } from "./errors.ts";
import { foldKeysToSchema } from "./go-keys.ts";

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

/** A field path as messages show it: `ipam.ranges[0][1].subnet`. */
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
