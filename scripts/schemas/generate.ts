import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { z } from "zod";
import { pluginLoaders } from "../../plugins/index.ts";

export const SCHEMAS_DIR = resolve(import.meta.dirname, "../../schemas");

/** Plugin name -> the JSON Schema text of its configuration (what users write: zod's input side). */
export async function generateSchemas(): Promise<Map<string, string>> {
  const schemas = new Map<string, string>();
  for (const [name, load] of Object.entries(pluginLoaders)) {
    const { default: plugin } = await load();
    if (!plugin.configSchema) throw new Error(`plugin ${name} has no configSchema`);
    const schema = z.toJSONSchema(plugin.configSchema, { io: "input", unrepresentable: "any" });
    const document = { $id: `https://cni-ts.dev/schemas/${name}.json`, title: `${name} plugin configuration`, ...schema };
    schemas.set(name, `${JSON.stringify(document, null, 2)}\n`);
  }
  return schemas;
}

/** Names whose committed schema file differs from what the code generates now. */
export function staleSchemas(generated: Map<string, string>): string[] {
  return [...generated].filter(([name, text]) => {
    const file = join(SCHEMAS_DIR, `${name}.json`);
    return !existsSync(file) || readFileSync(file, "utf8") !== text;
  }).map(([name]) => name);
}
