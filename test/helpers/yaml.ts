import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** The documents of a YAML file, parsed by Bun's YAML parser (Node, which runs the tests, has none). */
export function readYamlDocuments(path: string): unknown[] {
  const parsed = spawnSync("node_modules/.bin/bun", ["-e", "process.stdout.write(JSON.stringify(Bun.YAML.parse(require('fs').readFileSync(0, 'utf8'))))"], {
    input: readFileSync(path, "utf8"),
    encoding: "utf8",
  });
  if (parsed.status !== 0) throw new Error(`parsing ${path}: ${parsed.stderr}`);
  const documents = JSON.parse(parsed.stdout) as unknown;
  return Array.isArray(documents) ? documents : [documents];
}
