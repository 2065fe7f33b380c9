import { z } from "zod";

/**
 * Go's encoding/json matches an object key to a struct field ignoring case, so the reference
 * plugins read "IPAM", "isgateway" or "rangestart" as the fields they spell. This renames every
 * key that matches a key of the schema ignoring case to the schema's spelling, at every depth the
 * schema describes, so our plugins accept what the reference accepts. When several keys land on
 * one field the later one wins, exact spelling or not, as in Go. Keys the schema does not know stay.
 */
export function foldKeysToSchema(schema: z.ZodType, value: unknown): unknown {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) return foldObject(inner, value);
  if (inner instanceof z.ZodArray && Array.isArray(value)) {
    return value.map((element) => foldKeysToSchema(inner.element as z.ZodType, element));
  }
  if (inner instanceof z.ZodRecord && isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, element]) => [key, foldKeysToSchema(inner.valueType as z.ZodType, element)]));
  }
  return value;
}

function foldObject(schema: z.ZodObject, value: unknown): unknown {
  if (!isPlainObject(value)) return value;
  const shape = schema.shape as Record<string, z.ZodType>;
  const byLowerCase = new Map(Object.keys(shape).map((field) => [field.toLowerCase(), field]));
  const folded: Record<string, unknown> = {};
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = key in shape ? key : (byLowerCase.get(key.toLowerCase()) ?? key);
    delete folded[field]; // keep the later key's position too, as if it had been written alone
    folded[field] = field in shape ? foldKeysToSchema(shape[field]!, fieldValue) : fieldValue;
  }
  return folded;
}

/** The schema under optional/nullable/default/pipe/readonly/catch wrappers. */
function unwrap(schema: z.ZodType): z.ZodType {
  let current: z.ZodType = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault || current instanceof z.ZodReadonly || current instanceof z.ZodCatch || current instanceof z.ZodPrefault) {
      current = current.def.innerType as z.ZodType;
    } else if (current instanceof z.ZodPipe) {
      current = current.def.in as z.ZodType;
    } else {
      return current;
    }
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
