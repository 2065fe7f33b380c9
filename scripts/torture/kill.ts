/**
 * The kill phase: a runtime (runtime-child.ts) runs ADD through the chain and is killed with
 * SIGKILL at a random moment of it, either alone (the plugin it was running finishes as an
 * orphan, as when a runtime crashes) or with its whole process group (the plugin dies half-way
 * too). Its result never reaches the cache, so the DEL that follows, by a fresh runtime, comes
 * without prevResult; in half of the tries the container's namespace is gone by then, as when
 * the container stopped meanwhile. Whatever stays on the host after that DEL is a leak.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { capabilityArgs, createChainWorld, type ChainWorld } from "./chain.ts";
import { groupAlive, inNamespace, killGroup, runProcess } from "./exec.ts";
import { Random } from "./random.ts";
import { residueOf } from "./shared.ts";
import { compareSnapshots } from "./snapshot.ts";
import type { Suite, TortureRun } from "./world.ts";

export interface KillTry {
  index: number;
  /** When the kill came, in ms after the runtime started, and how far the ADD had come by then (0-1). */
  atMs: number;
  victim: "runtime" | "group";
  netnsGone: boolean;
  /** The runtime finished before the kill came. */
  finishedFirst: boolean;
  delFailure?: string;
  leak: string[];
}

export interface KillResult {
  tries: number;
  /** Duration of an undisturbed ADD by the runtime, which bounds the kill moments. */
  addMs: number;
  killedRuntime: number;
  killedGroup: number;
  finishedFirst: number;
  delFailures: number;
  leaks: number;
  findings: KillTry[];
}

const RUNTIME_SCRIPT = join(import.meta.dir, "runtime-child.ts");

export async function killPhase(run: TortureRun, suite: Suite, tries: number, seed: number, progress: (line: string) => void): Promise<KillResult> {
  const result: KillResult = { tries: 0, addMs: 0, killedRuntime: 0, killedGroup: 0, finishedFirst: 0, delFailures: 0, leaks: 0, findings: [] };
  if (tries === 0) return result;
  let chain = await primedWorld(run, suite);
  result.addMs = chain.addMs;
  try {
    for (let index = 0; index < tries; index++) {
      const attempt = await killTry(run, chain.chain, index, seed, result.addMs);
      result.tries++;
      if (attempt.finishedFirst) result.finishedFirst++;
      else if (attempt.victim === "runtime") result.killedRuntime++;
      else result.killedGroup++;
      if (attempt.delFailure) result.delFailures++;
      if (attempt.leak.length > 0) result.leaks++;
      if (attempt.leak.length > 0 || attempt.delFailure) {
        result.findings.push(attempt);
        await chain.chain.world.destroy();
        chain = await primedWorld(run, suite);
      }
    }
  } finally {
    await chain.chain.world.destroy();
  }
  progress(`kill ${suite.id}: ${result.tries} tries (${result.killedRuntime} runtime alone, ${result.killedGroup} with its plugins, ${result.finishedFirst} finished first): ${result.leaks} leaks, ${result.delFailures} DEL failures`);
  return result;
}

/** A chain world after one undisturbed ADD and DEL (so shared state exists), with the ADD's duration. */
async function primedWorld(run: TortureRun, suite: Suite): Promise<{ chain: ChainWorld; addMs: number }> {
  const chain = await createChainWorld(run, suite);
  const netns = chain.world.newContainer();
  const attachment = { containerId: run.uniqueName("p"), netns, ifname: "eth0" };
  const started = performance.now();
  const add = await runtime(chain, "add", attachment, 60_000);
  const addMs = performance.now() - started;
  const del = await runtime(chain, "del", attachment, 60_000);
  if (add.status !== 0 || del.status !== 0) {
    await chain.world.destroy();
    throw new Error(`kill phase: the undisturbed ADD/DEL of ${suite.id} failed: ${add.stderr || del.stderr}`);
  }
  chain.world.releaseContainers();
  chain.world.baseline = await chain.world.snapshot();
  return { chain, addMs };
}

interface RuntimeAttachment {
  containerId: string;
  netns: string;
  ifname: string;
}

function runtimeArgv(chain: ChainWorld, command: "add" | "del", attachment: RuntimeAttachment): string[] {
  const cacheDir = join(chain.world.dir, "cache");
  const capabilities = JSON.stringify(capabilityArgs(chain.world.context.hostPort));
  return inNamespace(chain.world.host, [process.execPath, RUNTIME_SCRIPT, command, chain.listFile, attachment.netns, attachment.containerId, attachment.ifname, cacheDir, chain.world.suite.bin, capabilities]);
}

function runtime(chain: ChainWorld, command: "add" | "del", attachment: RuntimeAttachment, timeoutMs: number) {
  return runProcess({ argv: runtimeArgv(chain, command, attachment), env: { PATH: process.env.PATH ?? "" }, stdin: Buffer.alloc(0), cwd: chain.world.dir, timeoutMs });
}

async function killTry(run: TortureRun, chain: ChainWorld, index: number, seed: number, addMs: number): Promise<KillTry> {
  const random = Random.stream(seed, `kill/${index}`);
  const atMs = Math.round(random.next() * addMs * 1.1);
  const victim = random.chance(0.5) ? "runtime" : "group";
  const netnsGone = random.chance(0.5);
  const netns = chain.world.newContainer();
  const attachment = { containerId: run.uniqueName("k"), netns, ifname: "eth0" };
  const attempt: KillTry = { index, atMs, victim, netnsGone, finishedFirst: false, leak: [] };

  const proc = Bun.spawn(runtimeArgv(chain, "add", attachment), { env: { PATH: process.env.PATH ?? "" }, cwd: chain.world.dir, stdout: "ignore", stderr: "ignore" });
  const exited = proc.exited.then(() => true);
  const finished = await Promise.race([exited, sleep(atMs).then(() => false)]);
  if (finished) attempt.finishedFirst = true;
  else if (victim === "runtime") process.kill(proc.pid, "SIGKILL");
  else killGroup(proc.pid);
  await proc.exited;
  // An orphaned plugin finishes its work: DEL comes after it, as a restarted runtime's would.
  for (let waited = 0; groupAlive(proc.pid) && waited < 60_000; waited += 20) await sleep(20);
  killGroup(proc.pid);

  rmSync(join(chain.world.dir, "cache"), { recursive: true, force: true });
  if (netnsGone) chain.world.releaseContainers();
  const del = await runtime(chain, "del", attachment, 60_000);
  if (del.status !== 0) attempt.delFailure = del.stderr.trim() || `exit ${del.status ?? del.signal}`;
  if (!netnsGone) chain.world.releaseContainers();
  attempt.leak = await settledResidue(run, chain);
  return attempt;
}

/** The residue once the kernel has finished tearing down a deleted namespace's veth pairs (it does so asynchronously). */
async function settledResidue(run: TortureRun, chain: ChainWorld): Promise<string[]> {
  let residue: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const after = await chain.world.snapshot();
    residue = residueOf(compareSnapshots(chain.world.baseline, after), after, run.tag);
    if (residue.length === 0) return residue;
    await sleep(100);
  }
  return residue;
}
