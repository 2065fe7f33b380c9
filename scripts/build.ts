/**
 * Builds the suite: one Bun-compiled executable (dist/cni) and a hard link to it for every
 * plugin name and for cnitool in dist/bin. Usage: bun scripts/build.ts [--outdir DIR] [--keep-names]
 * (CNI_DIST sets the default outdir, so parallel test runs can build apart; --keep-names keeps
 * function names readable in CPU profiles, as the bench's profile needs).
 * The settings, and why: executable-build.ts.
 */
import { linkSync, mkdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { pluginLoaders } from "../plugins/index.ts";
import { buildExecutable } from "./executable-build.ts";

const outdirFlag = process.argv.indexOf("--outdir");
const keepNames = process.argv.includes("--keep-names");
const outdir = resolve(outdirFlag > 0 ? process.argv[outdirFlag + 1]! : (process.env.CNI_DIST ?? "dist"));
const executable = join(outdir, "cni");
const bindir = join(outdir, "bin");

const started = performance.now();
rmSync(bindir, { recursive: true, force: true });
mkdirSync(bindir, { recursive: true });

try {
  await buildExecutable({ entrypoint: "lib/main.ts", outfile: executable, keepNames, splitting: true });
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}

const names = [...Object.keys(pluginLoaders), "cnitool"];
for (const name of names) linkSync(executable, join(bindir, name));
console.log(`built ${executable} and ${names.length} names in ${bindir} (${Math.round(performance.now() - started)} ms)`);
