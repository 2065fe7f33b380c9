/**
 * A whole torture run: the selected phases for our plugins, then (with --reference) for the
 * reference plugins on the same seeds. Everything is cleaned up at the end, however it ended.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fuzzSuite, type PluginFuzzResult } from "./fuzz.ts";
import { killPhase, type KillResult } from "./kill.ts";
import type { TortureOptions } from "./options.ts";
import { parallelPhase, type ParallelResult } from "./parallel.ts";
import { soakPhase, type SoakResult } from "./soak.ts";
import { TARGETS } from "./targets.ts";
import { TortureRun, type Suite } from "./world.ts";

export interface SuiteResults {
  bin: string;
  fuzz?: PluginFuzzResult[];
  kill?: KillResult;
  soak?: SoakResult;
  parallel?: ParallelResult;
}

export interface TortureResults {
  startedAt: string;
  seconds: number;
  options: TortureOptions;
  suites: Partial<Record<Suite["id"], SuiteResults>>;
}

export function progress(line: string): void {
  process.stderr.write(`${line}\n`);
}

export async function runTorture(options: TortureOptions): Promise<TortureResults> {
  if (!existsSync(join(options.ourBin, "bridge"))) {
    throw new Error(`no build of ours in ${options.ourBin}: run \`node_modules/.bin/bun scripts/build.ts\` first`);
  }
  const unknown = (options.plugins ?? []).filter((plugin) => !TARGETS.some((target) => target.plugin === plugin));
  if (unknown.length > 0) throw new Error(`--plugins: not in the registry (scripts/torture/targets.ts): ${unknown.join(", ")}`);
  const targets = TARGETS.filter((target) => !options.plugins || options.plugins.includes(target.plugin));
  const suites: Suite[] = [{ id: "ours", bin: options.ourBin }, ...(options.reference ? [{ id: "reference" as const, bin: options.referenceBin }] : [])];

  const run = new TortureRun();
  run.installSignalCleanup();
  const started = performance.now();
  const results: TortureResults = { startedAt: new Date().toISOString(), seconds: 0, options, suites: {} };
  progress(`torture: seed ${options.seed}, run tag ${run.tag}`);
  try {
    for (const suite of suites) {
      const suiteResults: SuiteResults = { bin: suite.bin };
      results.suites[suite.id] = suiteResults;
      const fuzzOptions = { seed: options.seed, cases: options.cases, batch: options.batch, timeoutMs: options.timeoutMs, jobs: options.jobs };
      if (options.phases.includes("fuzz")) suiteResults.fuzz = await fuzzSuite(run, suite, targets, fuzzOptions, progress);
      if (options.phases.includes("kill")) suiteResults.kill = await killPhase(run, suite, options.kills, options.seed, progress);
      if (options.phases.includes("soak")) suiteResults.soak = await soakPhase(run, suite, options.soakCycles, 60_000, progress);
      if (options.phases.includes("parallel")) suiteResults.parallel = await parallelPhase(run, suite, options.parallel, options.rounds, progress);
    }
  } finally {
    run.cleanup();
  }
  results.seconds = Math.round((performance.now() - started) / 1000);
  return results;
}
