/**
 * Where the milliseconds of one ADD of ours go, three ways:
 * - the runtime floor: an empty program compiled with the shipped flags, doing nothing;
 * - a timeline per plugin process from strace (seccomp-filtered, so only the few traced system
 *   calls stop the process): start-up and module loading up to reading stdin; configuration
 *   parsing (and loading the IPAM plugin for in-process delegation) up to the first system
 *   call doing the work; the work itself up to writing the result, less the lifetimes of the
 *   child processes started (iptables, nft, busctl: strace slows those badly, so their time is
 *   taken from the CPU profile instead); and exit;
 * - a sampling CPU profile of the same ADDs and their DELs (a build that keeps function names), by category of
 *   work and by function. The sampler sees the JavaScript thread even while it is blocked, so
 *   time waiting in spawnSync is the untraced lifetime of the child processes.
 * The timeline is the median of several ADDs, the CPU profile the mean per call.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { progress, type BenchContext } from "../context.ts";
import type { Suite } from "../driver.ts";
import { buildFloor, FLOOR_PROGRAM } from "../floor.ts";
import type { BenchNetwork } from "../networks.ts";
import { summarize, type Summary } from "../stats.ts";
import { cycleInFreshNamespace } from "./cycle.ts";

const TIMELINE_RUNS = 7;
const CPU_PROFILE_RUNS = 20;
const CPU_PROFILE_INTERVAL_US = 250;
const TRACED_CALLS = "execve,read,write,socket,setns,vfork,clone,exit_group";
const REPO_ROOT = resolve(import.meta.dir, "../../..");

export interface PhaseTimes {
  startupAndModules: Summary;
  configParsing: Summary;
  /** From the first system call doing the work to the result, less the child processes' lifetimes. */
  workInPlugin: Summary;
  exit: Summary;
  /** Child processes started per ADD, by program. */
  children: Record<string, number>;
}

export interface CpuSummary {
  totalMs: number;
  /** Mean ms per call by where the time went (CATEGORIES). */
  categories: Record<string, number>;
  /** Busiest functions by inclusive time, leaving out the frames every sample passes through. */
  top: { name: string; ms: number }[];
  /** Busiest functions by self time. */
  topSelf: { name: string; ms: number }[];
}

export interface ProfileResult {
  list: string[];
  /** An empty program compiled with the shipped flags: what Bun itself costs per process. */
  runtimeFloor: Summary;
  /** The same program under the timeline's strace, from exec to its output: what tracing adds to start-up. */
  tracedRuntimeFloor: Summary;
  /** Per plugin of the list: its ADD's timeline. */
  timeline: Record<string, PhaseTimes>;
  /** Per call of the list ("bridge ADD", "bridge DEL"): where its JavaScript time went. */
  cpu: Record<string, CpuSummary>;
}

export async function runProfile(context: BenchContext, network: BenchNetwork, capabilityArgs: Record<string, unknown>): Promise<ProfileResult> {
  const plugins = network.list.plugins.map((plugin) => plugin.type);
  progress(`profile: ADD of ${plugins.join(" -> ")} (${TIMELINE_RUNS} traced, ${CPU_PROFILE_RUNS} CPU-profiled)`);
  const dir = context.host.tempDir("profile");
  const floor = await runtimeFloor(dir, context.options.versionIterations);
  const result: ProfileResult = { list: plugins, runtimeFloor: floor.untraced, tracedRuntimeFloor: floor.traced, timeline: {}, cpu: {} };

  const traces: Record<string, string[]> = Object.fromEntries(plugins.map((type) => [type, []]));
  for (let run = 0; run < TIMELINE_RUNS; run++) {
    const traced: Suite = {
      ...context.ours,
      wrap: (type, command) => (command === "ADD" ? traceCommand(join(dir, `${type}.${run}.strace`)) : []),
    };
    await cycleInFreshNamespace(context, traced, network, capabilityArgs);
    for (const type of plugins) traces[type]!.push(readFileSync(join(dir, `${type}.${run}.strace`), "utf8"));
  }
  for (const type of plugins) result.timeline[type] = summarizeTimelines(traces[type]!.map((log) => timelineOf(log, join(context.ours.bin, type))));

  const namedBuild = join(dir, "named");
  execFileSync(process.execPath, ["scripts/build.ts", "--outdir", namedBuild, "--keep-names"], { cwd: REPO_ROOT, stdio: "ignore" });
  const profiled: Suite = {
    id: "ours",
    bin: join(namedBuild, "bin"),
    wrap: (type, command) => ["env", `BUN_OPTIONS=--cpu-prof --cpu-prof-dir=${join(dir, `cpu-${type}-${command}`)} --cpu-prof-interval=${CPU_PROFILE_INTERVAL_US}`],
  };
  for (let run = 0; run < CPU_PROFILE_RUNS; run++) await cycleInFreshNamespace(context, profiled, network, capabilityArgs);
  for (const command of ["ADD", "DEL"]) {
    for (const type of plugins) result.cpu[`${type} ${command}`] = summarizeCpuProfiles(join(dir, `cpu-${type}-${command}`));
  }
  context.host.removeDir(dir);
  return result;
}

/** strace as the timeline uses it, writing to `log`. */
function traceCommand(log: string): string[] {
  return ["strace", "-f", "-ttt", "-qq", "--seccomp-bpf", "-e", `trace=${TRACED_CALLS}`, "-e", "signal=none", "-o", log];
}

/**
 * The runtime floor: an empty program compiled as the suite is, run `iterations` times, and a
 * few times under the timeline's strace (exec to output), to calibrate the timeline's start-up.
 */
async function runtimeFloor(dir: string, iterations: number): Promise<{ untraced: Summary; traced: Summary }> {
  const executable = join((await buildFloor(dir)).bin, FLOOR_PROGRAM);
  const untraced: number[] = [];
  for (let index = 0; index < iterations; index++) {
    const started = performance.now();
    Bun.spawnSync([executable], { stdout: "ignore" });
    untraced.push(performance.now() - started);
  }
  const traced: number[] = [];
  for (let index = 0; index < TIMELINE_RUNS; index++) {
    const log = join(dir, `floor.${index}.strace`);
    Bun.spawnSync([...traceCommand(log), executable], { stdout: "ignore" });
    const times = readFileSync(log, "utf8")
      .split("\n")
      .filter((line) => /execve\(|write\(1,/.test(line))
      .map((line) => Number(/^\d+\s+([\d.]+)/.exec(line)?.[1]) * 1000);
    traced.push(times[times.length - 1]! - times[0]!);
  }
  return { untraced: summarize(untraced), traced: summarize(traced) };
}

interface Timeline {
  startupAndModules: number;
  configParsing: number;
  workInPlugin: number;
  exit: number;
  children: string[];
}

/** Reads one `strace -f -ttt` log of a plugin's ADD into its phases (milliseconds). */
function timelineOf(log: string, plugin: string): Timeline {
  const parsed = log.split("\n").flatMap((line) => {
    const fields = /^(\d+)\s+([\d.]+)\s+(.*)$/.exec(line);
    return fields ? [{ pid: fields[1]!, time: Number(fields[2]) * 1000, call: fields[3]! }] : [];
  });
  const main = parsed.find((entry) => entry.call.startsWith(`execve("${plugin}"`));
  if (!main) throw new Error(`profile: no execve of ${plugin} in the trace`);
  const own = parsed.filter((entry) => entry.pid === main.pid);
  const stdin = own.find((entry) => entry.call.startsWith("read(0,"));
  const afterStdin = own.filter((entry) => stdin && entry.time > stdin.time);
  const firstWork = afterStdin.find((entry) => /^(socket|setns|vfork|clone)\(/.test(entry.call) && !entry.call.includes('"/proc/self'));
  const result = own.find((entry) => entry.call.startsWith("write(1,"));
  const end = own[own.length - 1]!;

  // Child processes (vfork/clone by the plugin, not its threads): from the plugin's fork to
  // the child's last traced call (its exit_group), named after the program it executed.
  const children: string[] = [];
  let childMs = 0;
  let forkedAt: number | undefined;
  for (const entry of own) {
    if (/^(vfork|clone)\(/.test(entry.call)) forkedAt = entry.time;
    const forked = /^(?:<\.\.\. )?(?:vfork|clone)(?: resumed>)?.*\) = (\d+)$/.exec(entry.call);
    if (!forked || forkedAt === undefined) continue;
    const childLines = parsed.filter((other) => other.pid === forked[1]);
    const program = childLines.map((other) => /^execve\("([^"]+)"/.exec(other.call)?.[1]).find((path) => path !== undefined);
    childMs += (childLines[childLines.length - 1]?.time ?? entry.time) - forkedAt;
    children.push(program?.split("/").pop() ?? "(no exec)");
    forkedAt = undefined;
  }
  const startTime = main.time;
  const stdinTime = stdin?.time ?? startTime;
  const workStart = firstWork?.time ?? stdinTime;
  const resultTime = result?.time ?? end.time;
  return {
    startupAndModules: stdinTime - startTime,
    configParsing: workStart - stdinTime,
    workInPlugin: Math.max(0, resultTime - workStart - childMs),
    exit: end.time - resultTime,
    children,
  };
}

function summarizeTimelines(timelines: Timeline[]): PhaseTimes {
  const pick = (key: Exclude<keyof Timeline, "children">) => summarize(timelines.map((timeline) => timeline[key]));
  const children: Record<string, number> = {};
  for (const name of timelines[0]?.children ?? []) children[name] = (children[name] ?? 0) + 1;
  return {
    startupAndModules: pick("startupAndModules"),
    configParsing: pick("configParsing"),
    workInPlugin: pick("workInPlugin"),
    exit: pick("exit"),
    children,
  };
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Frames every sample of a plugin run passes through (the entry, the dispatcher, the generator
 * machinery): their inclusive time is the whole run, so they are left out of the ranking.
 */
const FRAMEWORK_FRAMES = /^(\(root\)|\(anonymous\)|main|runPlugin\d*|addAndEncode|anonymous|importModule|\(program\))( |$)/;

/**
 * Where a sample's time went, by the functions on its stack; the first category that matches
 * wins, in this order.
 */
const CATEGORIES: { name: string; matches: (names: readonly string[]) => boolean }[] = [
  { name: "waiting for child processes (spawnSync)", matches: (names) => names.some((name) => /^spawnSync\b/.test(name)) },
  { name: "IPAM plugin run in-process", matches: (names) => names.some((name) => /^runInProcess\d*\b/.test(name)) },
  { name: "zod schemas built while loading modules", matches: (names) => hasModuleFrame(names) && names.some((name) => /^(\$?Zod\w*|\$constructor)\b/.test(name)) },
  { name: "loading modules, other", matches: (names) => hasModuleFrame(names) || names.some((name) => /^importModule\b/.test(name)) },
  { name: "configuration and prevResult parsing", matches: (names) => names.some((name) => /^(parseWithSchema|decodeResult|foldKeysToSchema|parse\w*Config)\d*\b/.test(name)) },
  { name: "the plugin's work (netlink, files, rules)", matches: (names) => names.some((name) => /^(add|check|del)\d* \(/.test(name)) },
  { name: "other (runtime, dispatcher, output)", matches: () => true },
];

function hasModuleFrame(names: readonly string[]): boolean {
  return names.some((name) => name.startsWith("(module)"));
}

/** Mean milliseconds per run by category and under each function (inclusive and self). */
function summarizeCpuProfiles(dir: string): CpuSummary {
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const inclusive = new Map<string, number>();
  const self = new Map<string, number>();
  const categories = new Map<string, number>(CATEGORIES.map((category) => [category.name, 0]));
  let total = 0;
  for (const file of files) {
    const profile = JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parent = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
    profile.samples.forEach((sample, index) => {
      const ms = profile.timeDeltas[index]! / 1000;
      total += ms;
      const stack: string[] = [];
      for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) stack.push(frameName(byId.get(id)!.callFrame));
      const category = CATEGORIES.find((candidate) => candidate.matches(stack))!.name;
      categories.set(category, categories.get(category)! + ms);
      self.set(stack[0]!, (self.get(stack[0]!) ?? 0) + ms);
      for (const name of new Set(stack)) inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    });
  }
  const runs = Math.max(1, files.length);
  const ranked = (times: Map<string, number>, skip: (name: string) => boolean) =>
    [...times.entries()]
      .filter(([name]) => !skip(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, ms]) => ({ name, ms: ms / runs }));
  return {
    totalMs: total / runs,
    categories: Object.fromEntries([...categories].map(([name, ms]) => [name, ms / runs])),
    top: ranked(inclusive, (name) => FRAMEWORK_FRAMES.test(name)),
    topSelf: ranked(self, () => false),
  };
}

function frameName(frame: { functionName: string; url: string }): string {
  const where = frame.url.split("/").pop() ?? "";
  return `${frame.functionName || "(anonymous)"}${where ? ` (${where})` : ""}`;
}
