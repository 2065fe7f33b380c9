/**
 * Writes schemas/<plugin>.json, the JSON Schema of each plugin's configuration, generated from
 * the zod schema the plugin validates with. `--check` only compares and exits 1 when a file is
 * stale (test/unit/schemas.test.ts does the same).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateSchemas, staleSchemas, SCHEMAS_DIR } from "./schemas/generate.ts";

const schemas = await generateSchemas();
if (process.argv.includes("--check")) {
  const stale = staleSchemas(schemas);
  if (stale.length > 0) {
    console.error(`stale schemas (run npm run schemas): ${stale.join(", ")}`);
    process.exit(1);
  }
  console.log(`${schemas.size} schemas up to date`);
} else {
  mkdirSync(SCHEMAS_DIR, { recursive: true });
  for (const [name, text] of schemas) writeFileSync(join(SCHEMAS_DIR, `${name}.json`), text);
  console.log(`wrote ${schemas.size} schemas to ${SCHEMAS_DIR}`);
}
