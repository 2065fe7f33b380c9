/**
 * `npm run torture`: the plugins as a hostile or crashing runtime would try them. Options:
 * `bun scripts/torture.ts --help`; what each phase does and how to add a plugin:
 * scripts/torture/README.md.
 */
import { writeFileSync } from "node:fs";
import { parseOptions, USAGE, UsageError } from "./torture/options.ts";
import { failures, renderReport } from "./torture/report.ts";
import { runTorture } from "./torture/run.ts";

async function main(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`torture: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write("torture: must run as root (it creates network namespaces, links and firewall rules)\n");
    return 1;
  }
  const results = await runTorture(options);
  process.stdout.write(renderReport(results));
  if (options.json) writeFileSync(options.json, `${JSON.stringify(results, null, 1)}\n`);
  const problems = failures(results);
  for (const problem of problems) process.stderr.write(`torture: FAILED: ${problem}\n`);
  return problems.length > 0 ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
