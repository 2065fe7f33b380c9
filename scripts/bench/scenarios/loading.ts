/**
 * What a plugin process of ours costs before it does any work, part by part. Each step is an
 * executable compiled exactly as ours (executable-build.ts) that loads one more part of the
 * suite than the step before and exits; the steps run in turn, round after round, so the
 * difference between two steps' medians is what that part costs to load. The floor of the
 * other scenarios is the second step.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildExecutable } from "../../executable-build.ts";
import { progress, type BenchContext } from "../context.ts";
import { execPlugin, PluginCallError, type Suite } from "../driver.ts";
import { summarize, type Summary } from "../stats.ts";

const REPO_ROOT = join(import.meta.dir, "..", "..", "..");

interface Step {
  name: string;
  /** What the step adds, for the report. */
  label: string;
  /** The step it adds to; the first step adds to nothing. */
  after?: string;
  /** The program's statements, before it prints `{}` and exits. */
  loads: string[];
}

const loadCore = `(await import(${JSON.stringify(join(REPO_ROOT, "lib/core/index.ts"))})).configureZodForOneShotParsing();`;
const loadSkel = `await import(${JSON.stringify(join(REPO_ROOT, "lib/skel/index.ts"))});`;
const loadPlugin = (name: string) => `await import(${JSON.stringify(join(REPO_ROOT, "plugins", name, "index.ts"))});`;

/** In the order lib/main.ts loads them for a plugin call. */
const STEPS: readonly Step[] = [
  { name: "runtime", label: "Bun's runtime alone (printing with Bun.write)", loads: [] },
  { name: "floor", label: "+ node:fs (printing with writeSync): the floor", after: "runtime", loads: [] },
  { name: "core", label: "+ zod and lib/core", after: "floor", loads: [loadCore] },
  { name: "skel", label: "+ lib/skel (result types, netns, sys and bun:ffi, the dispatcher)", after: "core", loads: [loadCore, loadSkel] },
  { name: "tuning", label: "+ the tuning plugin's modules", after: "skel", loads: [loadCore, loadSkel, loadPlugin("tuning")] },
  { name: "bridge", label: "+ the bridge plugin's modules (after lib/skel, instead of tuning's)", after: "skel", loads: [loadCore, loadSkel, loadPlugin("bridge")] },
];

export interface LoadingStep {
  label: string;
  wall: Summary;
  cpu: Summary;
  /** Median wall time above the step it adds to. */
  adds?: number;
}

export interface LoadingResult {
  steps: LoadingStep[];
  rounds: number;
}

export async function runLoading(context: BenchContext): Promise<LoadingResult> {
  const dir = context.host.tempDir("loading");
  const rounds = context.options.versionIterations * 2;
  progress(`loading: ${STEPS.length} programs compiled as ours, each loading one more part, x ${rounds}`);
  for (const step of STEPS) {
    const source = join(dir, `${step.name}.ts`);
    writeFileSync(source, programText(step));
    await buildExecutable({ entrypoint: source, outfile: join(dir, step.name), splitting: true });
  }
  const suite: Suite = { id: "ours", bin: dir };
  const wall = new Map<string, number[]>(STEPS.map((step) => [step.name, []]));
  const cpu = new Map<string, number[]>(STEPS.map((step) => [step.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Reversed every other round, so that no step always runs right after the same one.
    for (const step of round % 2 === 0 ? STEPS : [...STEPS].reverse()) {
      const run = await execPlugin(suite, step.name, "VERSION", "", undefined);
      if (run.status !== 0 || run.stdout !== "{}") throw new PluginCallError(run);
      wall.get(step.name)!.push(run.wallMs);
      cpu.get(step.name)!.push(run.cpuMs);
    }
  }
  const medians = new Map(STEPS.map((step) => [step.name, summarize(wall.get(step.name)!).median]));
  return {
    rounds,
    steps: STEPS.map((step) => ({
      label: step.label,
      wall: summarize(wall.get(step.name)!),
      cpu: summarize(cpu.get(step.name)!),
      adds: step.after === undefined ? undefined : medians.get(step.name)! - medians.get(step.after)!,
    })),
  };
}

function programText(step: Step): string {
  if (step.name === "runtime") return 'await Bun.write(Bun.stdout, "{}");\n';
  return ['import { writeSync } from "node:fs";', ...step.loads, 'writeSync(1, "{}");', ""].join("\n");
}
