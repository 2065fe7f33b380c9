import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Suite } from "./driver.ts";
import type { BenchHost } from "./host.ts";
import type { SubnetPool } from "./networks.ts";
import type { BenchOptions } from "./options.ts";

/** What every scenario gets: options, the two suites, and the host to create things on. */
export interface BenchContext {
  options: BenchOptions;
  host: BenchHost;
  subnets: SubnetPool;
  reference: Suite;
  ours: Suite;
  /** The floor (floor.ts): run once per pair, so every figure of ours has one taken beside it. */
  floor: Suite;
}

/** Progress on stderr; results go to the report. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** A scenario that could not run, and why (a plugin not built yet, say). */
export interface Skipped {
  skipped: string;
}

/** The plugins of `types` missing from either suite, as a skip reason; undefined when all exist. */
export function missingPlugins(context: BenchContext, types: readonly string[]): Skipped | undefined {
  for (const suite of [context.ours, context.reference]) {
    const missing = types.filter((type) => !existsSync(join(suite.bin, type)));
    if (missing.length > 0) {
      const who = suite.id === "ours" ? "" : " in the reference";
      return { skipped: `${missing.join(", ")} not built yet${who} (${suite.bin})` };
    }
  }
  return undefined;
}
