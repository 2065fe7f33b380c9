/**
 * VERSION per process: the start-up floor. Every plugin present in both suites answers VERSION
 * `versionIterations` times, reference and ours alternating.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { progress, type BenchContext } from "../context.ts";
import { FLOOR_PROGRAM } from "../floor.ts";
import { execPlugin, PluginCallError, type Suite } from "../driver.ts";
import { pairOrder } from "./cycle.ts";
import { compare, summarize, type Comparison, type Summary } from "../stats.ts";

export const VERSION_PLUGINS = ["bridge", "host-local", "loopback", "portmap", "firewall", "tuning", "bandwidth"] as const;

export interface VersionResult {
  /** Wall time per VERSION process, by plugin. */
  plugins: Record<string, Comparison & { cpu: { reference: Summary; ours: Summary } }>;
  /** All plugins pooled: the headline start-up figure. */
  all: Comparison;
  /** The floor, run once per round beside the plugins. */
  floor: Summary;
  /** The driver's own cost per process: /bin/true started the same way. */
  driverOverhead: Summary;
}

export async function runVersion(context: BenchContext): Promise<VersionResult> {
  const { reference, ours } = context;
  const plugins = VERSION_PLUGINS.filter((type) => existsSync(join(ours.bin, type)) && existsSync(join(reference.bin, type)));
  const wall = { reference: new Map<string, number[]>(), ours: new Map<string, number[]>() };
  const cpu = { reference: new Map<string, number[]>(), ours: new Map<string, number[]>() };
  for (const type of plugins) {
    for (const side of [wall, cpu]) {
      side.reference.set(type, []);
      side.ours.set(type, []);
    }
  }
  const floor: number[] = [];
  progress(`version: ${plugins.join(", ")} x ${context.options.versionIterations}`);
  for (let round = 0; round < context.options.versionIterations; round++) {
    for (const type of plugins) {
      for (const suite of pairOrder(context, round)) {
        const run = await execPlugin(suite, type, "VERSION", "", undefined);
        if (run.status !== 0) throw new PluginCallError(run);
        wall[suite.id].get(type)!.push(run.wallMs);
        cpu[suite.id].get(type)!.push(run.cpuMs);
      }
    }
    floor.push((await execPlugin(context.floor, FLOOR_PROGRAM, "VERSION", "", undefined)).wallMs);
  }
  const result: VersionResult = { plugins: {}, all: compare([], []), floor: summarize(floor), driverOverhead: await driverOverhead(context.options.versionIterations) };
  for (const type of plugins) {
    result.plugins[type] = {
      ...compare(wall.reference.get(type)!, wall.ours.get(type)!),
      cpu: { reference: summarize(cpu.reference.get(type)!), ours: summarize(cpu.ours.get(type)!) },
    };
  }
  result.all = compare(plugins.flatMap((type) => wall.reference.get(type)!), plugins.flatMap((type) => wall.ours.get(type)!));
  return result;
}

/** The wall time of /bin/true run through the driver: what every plugin call carries on top. */
async function driverOverhead(iterations: number): Promise<Summary> {
  const trueSuite: Suite = { id: "reference", bin: "/bin" };
  const samples: number[] = [];
  for (let index = 0; index < iterations; index++) samples.push((await execPlugin(trueSuite, "true", "VERSION", "", undefined)).wallMs);
  return summarize(samples);
}
