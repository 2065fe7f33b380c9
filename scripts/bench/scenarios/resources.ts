/**
 * An untimed pass over the cycle scenarios: each plugin call runs once under /usr/bin/time for
 * its peak RSS, and once under strace for the programs it starts (iptables, the IPAM plugin...),
 * so timings are never taken from instrumented runs. Peak RSS is the process's, or that of a
 * child it waited for if larger (what wait4 reports): the reference bridge's includes the
 * host-local it ran.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { progress, type BenchContext } from "../context.ts";
import type { PluginCommand, Suite } from "../driver.ts";
import type { BenchNetwork } from "../networks.ts";
import { cycleInFreshNamespace } from "./cycle.ts";

/** Per plugin call ("bridge ADD"): peak RSS in MiB and the programs it started, by name. */
export interface CallResources {
  peakRssMiB: number;
  started: Record<string, number>;
}

export type ScenarioResources = Record<"reference" | "ours", Record<string, CallResources>>;

type Side = "reference" | "ours";

export async function measureResources(
  context: BenchContext,
  name: string,
  networks: Record<Side, BenchNetwork>,
  capabilityArgs: (side: Side) => Record<string, unknown> = () => ({}),
): Promise<ScenarioResources> {
  progress(`resources: ${name} (peak RSS, programs started)`);
  const result: ScenarioResources = { reference: {}, ours: {} };
  for (const suite of [context.reference, context.ours]) {
    const dir = context.host.tempDir(`resources-${suite.id}`);
    const timed: Suite = { ...suite, wrap: (type, command) => ["/usr/bin/time", "-f", "%M", "-o", outFile(dir, type, command, "rss")] };
    const traced: Suite = {
      ...suite,
      wrap: (type, command) => ["strace", "-f", "-qq", "-e", "trace=execve", "-e", "signal=none", "-o", outFile(dir, type, command, "strace")],
    };
    const calls = new Set<string>();
    for (const variant of [timed, traced]) {
      const { add, del } = await cycleInFreshNamespace(context, variant, networks[suite.id], capabilityArgs(suite.id));
      for (const run of [...add.runs, ...del.runs]) calls.add(`${run.type} ${run.command}`);
    }
    for (const key of calls) {
      const [type, command] = key.split(" ") as [string, PluginCommand];
      result[suite.id][key] = {
        peakRssMiB: Number(readFileSync(outFile(dir, type, command, "rss"), "utf8").trim().split("\n").pop()) / 1024,
        started: programsStarted(outFile(dir, type, command, "strace"), join(suite.bin, type)),
      };
    }
    context.host.removeDir(dir);
  }
  return result;
}

function outFile(dir: string, type: string, command: string, kind: string): string {
  return join(dir, `${type}.${command}.${kind}`);
}

/**
 * The programs an `strace -f -e trace=execve` log shows started, besides the plugin itself.
 * Failed attempts (a PATH search trying directories) are not counted; with -f a call may be
 * logged in two parts ("<unfinished ...>", then "<... execve resumed>") when processes interleave.
 */
function programsStarted(logFile: string, plugin: string): Record<string, number> {
  const counts: Record<string, number> = {};
  let log: string;
  try {
    log = readFileSync(logFile, "utf8");
  } catch {
    return counts;
  }
  const pending = new Map<string, string>();
  const started: string[] = [];
  for (const line of log.split("\n")) {
    const pid = line.split(" ", 1)[0]!;
    const call = /execve\("([^"]+)"/.exec(line);
    if (call && line.includes("<unfinished ...>")) pending.set(pid, call[1]!);
    else if (call && / = 0$/.test(line)) started.push(call[1]!);
    else if (line.includes("<... execve resumed>") && pending.has(pid)) {
      if (/ = 0$/.test(line)) started.push(pending.get(pid)!);
      pending.delete(pid);
    }
  }
  for (const path of started.slice(started[0] === plugin ? 1 : 0)) counts[basename(path)] = (counts[basename(path)] ?? 0) + 1;
  return counts;
}

/** Names of the calls measured, in a stable order (for the report). */
export function callsOf(resources: ScenarioResources): string[] {
  return [...new Set([...Object.keys(resources.reference), ...Object.keys(resources.ours)])];
}
