/**
 * JSON written the way Go's encoding/json writes a map[string]interface{}: object keys sorted
 * (by UTF-16 code unit, which equals Go's byte order for the ASCII keys configurations use) at
 * every depth, no whitespace, and "<", ">", "&", U+2028 and U+2029 escaped. libcni builds every
 * request configuration and cache entry through such maps, so writing ours the same way makes
 * them byte-for-byte comparable with what a libcni-based runtime sends and stores.
 *
 * Serialised by hand rather than by rebuilding objects for JSON.stringify: JavaScript enumerates
 * integer-like keys ("9", "10") before all others, whatever order they were inserted in.
 */
export function marshalLikeGo(value: unknown): string {
  return encode(value).replace(/[<>&\u2028\u2029]/g, escapeCharacter);
}

function encode(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : encode(item))).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${encode(record[key])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

function escapeCharacter(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;
}
