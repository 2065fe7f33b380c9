/**
 * `npm run bench`: the reference plugins and ours side by side, through one driver. Options:
 * `bun scripts/bench.ts --help`; what is measured and how to read it: bench/README.md.
 */
import { insideTag, runInBenchNamespace } from "./bench/host.ts";
import { parseOptions, USAGE, UsageError } from "./bench/options.ts";
import { runInside, writeResults } from "./bench/run.ts";

async function main(argv: string[]): Promise<number> {
  const inside = insideTag(argv);
  let options;
  try {
    options = parseOptions(inside?.rest ?? argv, process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === "help") {
    process.stdout.write(USAGE);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write("bench: must run as root (it creates network namespaces, bridges and firewall rules)\n");
    return 1;
  }
  if (!inside) return runInBenchNamespace(import.meta.path, argv);

  const command = ["npm run bench", ...(inside.rest.length > 0 ? ["--", ...inside.rest] : [])].join(" ");
  try {
    const results = await runInside(inside.tag, options, command);
    for (const file of writeResults(results, options.outDir)) process.stderr.write(`wrote ${file}\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
