/**
 * The fuzzing phase: for every plugin of the registry, seeded cases that each mutate one of its
 * seed requests and run it in a world of the plugin's kind. A successful ADD is followed by a
 * DEL with the same configuration and environment (and the ADD's result as prevResult, as a
 * runtime sends it), as a runtime would; then the host is compared with the world's baseline.
 * Every invocation is classified (classify.ts); a case whose host state changed beyond what is
 * shared by design is residue, and its world is replaced.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { classify, type Classified } from "./classify.ts";
import { mutateRequest, pickCommand } from "./mutate.ts";
import { Random } from "./random.ts";
import { residueOf } from "./shared.ts";
import { compareSnapshots, isEmpty } from "./snapshot.ts";
import type { TortureTarget } from "./targets.ts";
import { World, type Suite, type TortureRun } from "./world.ts";

export interface FuzzOptions {
  seed: number;
  /** Cases per plugin. */
  cases: number;
  /** Cases per world before a fresh one. */
  batch: number;
  timeoutMs: number;
  /** Plugins fuzzed at once. */
  jobs: number;
}

export interface InvocationRecord extends Classified {
  command: string;
  ms: number;
}

export interface CaseRecord {
  plugin: string;
  index: number;
  mutations: string[];
  invocations: InvocationRecord[];
  /** Host state left behind (or changed), as snapshot items. */
  residue: string[];
}

export interface PluginFuzzResult {
  plugin: string;
  skipped?: string;
  cases: number;
  invocations: number;
  ok: number;
  error: number;
  crash: number;
  hang: number;
  residue: number;
  /** Error codes answered, with how often. */
  codes: Record<string, number>;
  /** The cases that crashed, hung or left residue (all of them; the report shows a few). */
  findings: CaseRecord[];
}

export async function fuzzSuite(
  run: TortureRun,
  suite: Suite,
  targets: readonly TortureTarget[],
  options: FuzzOptions,
  progress: (line: string) => void,
): Promise<PluginFuzzResult[]> {
  // Plugins are fuzzed `jobs` at a time, each in worlds of its own; results keep the registry's order.
  const results: PluginFuzzResult[] = new Array(targets.length);
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const index = next++;
      results[index] = await fuzzTarget(run, suite, targets[index]!, options, progress);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.jobs, targets.length)) }, worker));
  return results;
}

async function fuzzTarget(run: TortureRun, suite: Suite, target: TortureTarget, options: FuzzOptions, progress: (line: string) => void): Promise<PluginFuzzResult> {
  const result: PluginFuzzResult = { plugin: target.plugin, cases: 0, invocations: 0, ok: 0, error: 0, crash: 0, hang: 0, residue: 0, codes: {}, findings: [] };
  if (!existsSync(join(suite.bin, target.plugin))) {
    result.skipped = `not in ${suite.bin}`;
    progress(`fuzz ${suite.id} ${target.plugin}: skipped (${result.skipped})`);
    return result;
  }
  const started = performance.now();
  let world: World | undefined;
  let worldCases = 0;
  try {
    for (let index = 0; index < options.cases; index++) {
      if (!world || worldCases >= options.batch) {
        await world?.destroy();
        world = await World.create(run, suite, run.nextWorldIndex(), target.kind, target);
        worldCases = 0;
      }
      worldCases++;
      const record = await runCase(run, world, target, index, options);
      tally(result, record);
      if (record.residue.length > 0 || record.worldChanged) {
        // Leftovers of this case must not count against the next: start over in a new world.
        await world.destroy();
        world = undefined;
      } else {
        world.releaseContainers();
      }
    }
  } finally {
    await world?.destroy();
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  progress(
    `fuzz ${suite.id} ${target.plugin}: ${result.cases} cases, ${result.invocations} invocations: ${result.ok} ok, ${result.error} errors, ` +
      `${result.crash} crashes, ${result.hang} hangs, ${result.residue} residue (${seconds} s)`,
  );
  return result;
}

interface RunRecord extends CaseRecord {
  /** The host lost state (a GC took the base attachment's) or kept residue: the world must be rebuilt. */
  worldChanged: boolean;
}

async function runCase(run: TortureRun, world: World, target: TortureTarget, index: number, options: FuzzOptions): Promise<RunRecord> {
  const random = Random.stream(options.seed, `fuzz/${target.plugin}/${index}`);
  const seeds = target.seeds(world.context);
  const seed = structuredClone(seeds[index % seeds.length]!);
  const command = pickCommand(random);
  if (command === "GC" || command === "STATUS") seed.cniVersion = "1.1.0";
  if (command === "GC") {
    seed["cni.dev/valid-attachments"] = world.base ? [{ containerID: world.base.containerId, ifname: world.base.ifname }] : [];
  }
  const containerId = `${world.token}x${index.toString(36)}`;
  const netns = target.kind === "main" ? world.newContainer() : world.sharedContainer!;
  const request = mutateRequest(random, seed, world.env(command, containerId, netns, "eth0"), command, world.odd);
  const record: RunRecord = { plugin: target.plugin, index, mutations: request.mutations, invocations: [], residue: [], worldChanged: false };

  const first = await invoke(world, target.plugin, request.env.CNI_COMMAND ?? "(unset)", request.env, request.stdin, options.timeoutMs);
  record.invocations.push(first.record);
  if (request.env.CNI_COMMAND === "ADD" && first.record.class === "ok") {
    const del = await invoke(world, target.plugin, "DEL", { ...request.env, CNI_COMMAND: "DEL" }, withPrevResult(request.stdin, first.stdout), options.timeoutMs);
    record.invocations.push(del.record);
  }

  const died = world.daemonDied();
  if (died) {
    // The plugin's daemon is part of it: dying of a request is a crash, and the world starts over.
    record.invocations.push({ command: "daemon", ms: 0, class: "crash", detail: died });
    record.worldChanged = true;
  }

  const after = await world.snapshot();
  const difference = compareSnapshots(world.baseline, after);
  if (!isEmpty(difference)) {
    record.residue = residueOf(difference, after, run.tag);
    // Shared state made by this case (a new bridge, shared chains) is the next case's starting point.
    world.baseline = after;
    record.worldChanged ||= record.residue.length > 0 || difference.removed.length > 0;
  }
  return record;
}

async function invoke(world: World, plugin: string, command: string, env: Record<string, string>, stdin: Buffer, timeoutMs: number) {
  const run = await world.call(plugin, env, stdin, timeoutMs);
  return { stdout: run.stdout, record: { command, ms: Math.round(run.wallMs), ...classify(command, run) } };
}

/** DEL's configuration as libcni derives it: the ADD's configuration with its result as prevResult (0.4.0 and later). */
function withPrevResult(stdin: Buffer, addStdout: string): Buffer {
  try {
    const config = JSON.parse(stdin.toString("utf8")) as unknown;
    if (typeof config !== "object" || config === null || Array.isArray(config)) return stdin;
    const version = (config as { cniVersion?: unknown }).cniVersion;
    if (typeof version !== "string" || !/^(0\.4\.0|1\.\d+\.\d+)$/.test(version)) return stdin;
    return Buffer.from(JSON.stringify({ ...config, prevResult: JSON.parse(addStdout) as unknown }));
  } catch {
    return stdin;
  }
}

function tally(result: PluginFuzzResult, record: CaseRecord): void {
  result.cases++;
  for (const invocation of record.invocations) {
    result.invocations++;
    result[invocation.class]++;
    if (invocation.code !== undefined) result.codes[invocation.code] = (result.codes[invocation.code] ?? 0) + 1;
  }
  if (record.residue.length > 0) result.residue++;
  if (record.residue.length > 0 || record.invocations.some((invocation) => invocation.class === "crash" || invocation.class === "hang")) {
    result.findings.push(record);
  }
}
