/**
 * ADD+DEL cycles of one network list, reference and ours alternating (which goes first alternates
 * too), each in a fresh container namespace: ADD in order with prevResult threaded through, DEL in reverse with the final result.
 */
import { randomInt } from "node:crypto";
import { progress, type BenchContext } from "../context.ts";
import { addList, delList, execPlugin, type Attachment, type ListRun, type Suite } from "../driver.ts";
import { FLOOR_PROGRAM } from "../floor.ts";
import type { BenchNetwork } from "../networks.ts";
import { compare, summarize, type Comparison, type Summary } from "../stats.ts";

export interface CycleResult {
  plugins: string[];
  /** ADD+DEL wall time of the whole list, per cycle. */
  cycle: Comparison;
  add: Comparison;
  del: Comparison;
  /** CPU time of all plugin processes of a cycle (user + system, children included). */
  cpu: { reference: Summary; ours: Summary };
  /** Wall time of each plugin call ("bridge ADD", ...). */
  calls: Record<string, Comparison>;
  /** The floor's wall time, run once after each pair. */
  floor: Summary;
}

type Side = "reference" | "ours";

interface Samples {
  cycle: number[];
  add: number[];
  del: number[];
  cpu: number[];
  calls: Map<string, number[]>;
}

/** Runs `cycles` measured cycles (after `warmup` unmeasured ones) of each suite's network. */
export async function runCycles(
  context: BenchContext,
  name: string,
  networks: Record<Side, BenchNetwork>,
  capabilityArgs: (side: Side) => Record<string, unknown> = () => ({}),
): Promise<CycleResult> {
  const { options, host } = context;
  const samples: Record<Side, Samples> = { reference: emptySamples(), ours: emptySamples() };
  const total = options.warmup + options.cycles;
  const floor: number[] = [];
  progress(`${name}: ${networks.ours.list.plugins.map((plugin) => plugin.type).join(" -> ")}, ${options.cycles} cycles (+${options.warmup} warm-up)`);
  for (let index = 0; index < total; index++) {
    const netnsPaths = host.createNamespaces(2);
    try {
      for (const [position, suite] of pairOrder(context, index).entries()) {
        const attachment: Attachment = {
          containerId: host.uniqueName("c"),
          netns: netnsPaths[position]!,
          ifName: "eth0",
          capabilityArgs: capabilityArgs(suite.id),
        };
        const { add, del } = await cycle(suite, networks[suite.id], attachment);
        if (index >= options.warmup) record(samples[suite.id], add, del);
      }
      const floorRun = await execPlugin(context.floor, FLOOR_PROGRAM, "VERSION", "", undefined);
      if (index >= options.warmup) floor.push(floorRun.wallMs);
    } finally {
      host.deleteNamespaces(netnsPaths);
    }
  }
  const calls: Record<string, Comparison> = {};
  for (const key of samples.ours.calls.keys()) {
    calls[key] = compare(samples.reference.calls.get(key) ?? [], samples.ours.calls.get(key)!);
  }
  return {
    plugins: networks.ours.list.plugins.map((plugin) => plugin.type),
    cycle: compare(samples.reference.cycle, samples.ours.cycle),
    add: compare(samples.reference.add, samples.ours.add),
    del: compare(samples.reference.del, samples.ours.del),
    cpu: { reference: summarize(samples.reference.cpu), ours: summarize(samples.ours.cpu) },
    calls,
    floor: summarize(floor),
  };
}

/**
 * The two suites of pair `index`, the reference first in even pairs and ours first in odd ones:
 * the runner that goes second in a pair is favoured (an A/A run showed ~0.86 with a fixed
 * order), so alternating cancels that out of the median ratio.
 */
export function pairOrder(context: BenchContext, index: number): [Suite, Suite] {
  return index % 2 === 0 ? [context.reference, context.ours] : [context.ours, context.reference];
}

/** One ADD and DEL; a failed ADD is deleted before the error is passed on. */
async function cycle(suite: Suite, network: BenchNetwork, attachment: Attachment): Promise<{ add: ListRun; del: ListRun }> {
  let add: ListRun;
  try {
    add = await addList(suite, network.list, attachment);
  } catch (error) {
    await delList(suite, network.list, attachment, undefined).catch(() => undefined);
    throw error;
  }
  return { add, del: await delList(suite, network.list, attachment, add.result) };
}

function emptySamples(): Samples {
  return { cycle: [], add: [], del: [], cpu: [], calls: new Map() };
}

function record(samples: Samples, add: ListRun, del: ListRun): void {
  samples.cycle.push(add.wallMs + del.wallMs);
  samples.add.push(add.wallMs);
  samples.del.push(del.wallMs);
  samples.cpu.push([...add.runs, ...del.runs].reduce((sum, run) => sum + run.cpuMs, 0));
  for (const run of [...add.runs, ...del.runs]) {
    const key = `${run.type} ${run.command}`;
    const list = samples.calls.get(key) ?? [];
    list.push(run.wallMs);
    samples.calls.set(key, list);
  }
}

/** One ADD and DEL in a namespace of its own, for the untimed passes (resources, profile). */
export async function cycleInFreshNamespace(
  context: BenchContext,
  suite: Suite,
  network: BenchNetwork,
  capabilityArgs: Record<string, unknown>,
): Promise<{ add: ListRun; del: ListRun }> {
  const [netns] = context.host.createNamespaces(1);
  try {
    return await cycle(suite, network, { containerId: context.host.uniqueName("c"), netns: netns!, ifName: "eth0", capabilityArgs });
  } finally {
    context.host.deleteNamespaces([netns!]);
  }
}

/** A host port per suite for the port mapping capability, so the two never map the same one. */
export function hostPorts(): Record<Side, number> {
  const base = randomInt(20000, 60000);
  return { reference: base, ours: base + 1 };
}
