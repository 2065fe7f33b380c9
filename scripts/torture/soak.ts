/**
 * The soak: the chain added and deleted for a new container, cycle after cycle, in one world.
 * At the end the host must be exactly as after the first cycle (links, rules, leases, files,
 * sysctls), no process may be left in the host namespace (with its open descriptors), and no
 * plugin may need more memory in the last cycles than in the first (a plugin whose work grows
 * with what earlier cycles left, say a lease scan, would).
 */
import { readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { addChain, capabilityArgs, createChainWorld, delChain, type ChainWorld } from "./chain.ts";
import { residueOf } from "./shared.ts";
import { compareSnapshots, isEmpty } from "./snapshot.ts";
import type { Suite, TortureRun } from "./world.ts";

export interface SoakResult {
  cycles: number;
  failures: string[];
  /** Host state items that differ between the start and the end. */
  changed: string[];
  /** Processes living in the host namespace, and their open descriptors, at the start and the end. */
  processes: { start: number; end: number };
  fds: { start: number; end: number };
  /** Median peak RSS (KiB) per plugin over the first and the last cycles. */
  rss: Record<string, { first: number; last: number }>;
  /** Median wall time of a cycle (ADD and DEL) over the first and the last cycles. */
  cycleMs: { first: number; last: number };
}

const WINDOW = 20;

export async function soakPhase(run: TortureRun, suite: Suite, cycles: number, timeoutMs: number, progress: (line: string) => void): Promise<SoakResult> {
  const result: SoakResult = { cycles: 0, failures: [], changed: [], processes: { start: 0, end: 0 }, fds: { start: 0, end: 0 }, rss: {}, cycleMs: { first: 0, last: 0 } };
  if (cycles === 0) return result;
  const chain = await createChainWorld(run, suite);
  const rssByCycle: Record<string, number>[] = [];
  const cycleMs: number[] = [];
  try {
    const netns = chain.world.newContainer();
    await cycle(run, chain, netns, timeoutMs);
    chain.world.baseline = await chain.world.snapshot();
    const start = hostProcesses(chain.world.host);
    result.processes.start = start.processes;
    result.fds.start = start.fds;
    for (let index = 0; index < cycles; index++) {
      const started = performance.now();
      const outcome = await cycle(run, chain, netns, timeoutMs);
      cycleMs.push(performance.now() - started);
      rssByCycle.push(outcome.rss);
      result.cycles++;
      if (outcome.failure) result.failures.push(`cycle ${index}: ${outcome.failure}`);
      if (result.failures.length >= 10) break;
    }
    const after = await chain.world.snapshot();
    const difference = compareSnapshots(chain.world.baseline, after);
    result.changed = isEmpty(difference) ? [] : [...residueOf(difference, after, run.tag), ...difference.removed.map((item) => `removed: ${item}`)];
    const end = hostProcesses(chain.world.host);
    result.processes.end = end.processes;
    result.fds.end = end.fds;
  } finally {
    await chain.world.destroy();
  }
  for (const plugin of Object.keys(rssByCycle[0] ?? {})) {
    const series = rssByCycle.map((rss) => rss[plugin] ?? 0);
    result.rss[plugin] = { first: median(series.slice(0, WINDOW)), last: median(series.slice(-WINDOW)) };
  }
  result.cycleMs = { first: Math.round(median(cycleMs.slice(0, WINDOW))), last: Math.round(median(cycleMs.slice(-WINDOW))) };
  progress(`soak ${suite.id}: ${result.cycles} cycles, ${result.failures.length} failures, ${result.changed.length} host items changed`);
  return result;
}

async function cycle(run: TortureRun, chain: ChainWorld, netns: string, timeoutMs: number): Promise<{ failure?: string; rss: Record<string, number> }> {
  const attachment = { containerId: run.uniqueName("s"), netns, ifname: "eth0", capabilityArgs: capabilityArgs(chain.world.context.hostPort) };
  const add = await addChain(chain, attachment, timeoutMs);
  const del = await delChain(chain, attachment, add.result, timeoutMs);
  const rss = Object.fromEntries(Object.keys({ ...add.rss, ...del.rss }).map((plugin) => [plugin, Math.max(add.rss[plugin] ?? 0, del.rss[plugin] ?? 0)]));
  return { failure: add.failure ?? del.failure, rss };
}

/** The processes in a namespace (`ip netns pids`) and how many descriptors they hold open. */
export function hostProcesses(netns: string): { processes: number; fds: number } {
  const pids = execFileSync("ip", ["netns", "pids", netns], { encoding: "utf8" }).split("\n").filter(Boolean);
  let fds = 0;
  for (const pid of pids) {
    try {
      fds += readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // gone meanwhile
    }
  }
  return { processes: pids.length, fds };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** A plugin whose memory grew over the soak: more than 10 % and 4 MiB above its start. */
export function grewInMemory(rss: { first: number; last: number }): boolean {
  return rss.last > rss.first * 1.1 + 4096;
}
