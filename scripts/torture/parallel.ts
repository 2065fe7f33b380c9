/**
 * The parallel phase: N containers added through the chain at once, then deleted at once, for
 * several rounds. Every ADD and DEL must succeed, no two containers may get the same address,
 * and the host must be back to its start after each round.
 */
import { addChain, capabilityArgs, createChainWorld, delChain } from "./chain.ts";
import { residueOf } from "./shared.ts";
import { compareSnapshots } from "./snapshot.ts";
import type { Suite, TortureRun } from "./world.ts";

export interface ParallelResult {
  attachments: number;
  rounds: number;
  addFailures: string[];
  delFailures: string[];
  /** Addresses handed to more than one container in a round. */
  duplicates: string[];
  residue: string[];
  seconds: number;
}

export async function parallelPhase(run: TortureRun, suite: Suite, count: number, rounds: number, progress: (line: string) => void): Promise<ParallelResult> {
  const result: ParallelResult = { attachments: count, rounds: 0, addFailures: [], delFailures: [], duplicates: [], residue: [], seconds: 0 };
  if (count === 0 || rounds === 0) return result;
  const started = performance.now();
  const chain = await createChainWorld(run, suite);
  // Under this much contention on a small machine a plugin may wait long for the xtables lock.
  const timeoutMs = 180_000;
  try {
    const warmup = { containerId: run.uniqueName("q"), netns: chain.world.newContainer(), ifname: "eth0", capabilityArgs: capabilityArgs(chain.world.context.hostPort) };
    const add = await addChain(chain, warmup, timeoutMs);
    await delChain(chain, warmup, add.result, timeoutMs);
    chain.world.baseline = await chain.world.snapshot();
    const namespaces = Array.from({ length: count }, () => chain.world.newContainer());
    for (let round = 0; round < rounds; round++) {
      const attachments = namespaces.map((netns, index) => ({
        containerId: run.uniqueName("q"),
        netns,
        ifname: "eth0",
        capabilityArgs: capabilityArgs(chain.world.context.hostPort + 1 + index),
      }));
      const added = await Promise.all(attachments.map((attachment) => addChain(chain, attachment, timeoutMs)));
      result.addFailures.push(...added.flatMap((outcome, index) => (outcome.failure ? [`round ${round} container ${index}: ${outcome.failure}`] : [])));
      const owners = new Map<string, number>();
      for (const outcome of added) {
        for (const ip of (outcome.result?.ips ?? []) as { address: string }[]) owners.set(ip.address, (owners.get(ip.address) ?? 0) + 1);
      }
      result.duplicates.push(...[...owners].filter(([, holders]) => holders > 1).map(([address, holders]) => `round ${round}: ${address} given to ${holders} containers`));
      const deleted = await Promise.all(attachments.map((attachment, index) => delChain(chain, attachment, added[index]!.result, timeoutMs)));
      result.delFailures.push(...deleted.flatMap((outcome, index) => (outcome.failure ? [`round ${round} container ${index}: ${outcome.failure}`] : [])));
      const after = await chain.world.snapshot();
      const difference = compareSnapshots(chain.world.baseline, after);
      result.residue.push(...residueOf(difference, after, run.tag).map((item) => `round ${round}: ${item}`));
      result.rounds++;
    }
  } finally {
    await chain.world.destroy();
  }
  result.seconds = Math.round((performance.now() - started) / 1000);
  progress(
    `parallel ${suite.id}: ${result.rounds} rounds of ${count}: ${result.addFailures.length} ADD failures, ${result.delFailures.length} DEL failures, ` +
      `${result.duplicates.length} duplicate addresses, ${result.residue.length} residue items (${result.seconds} s)`,
  );
  return result;
}
