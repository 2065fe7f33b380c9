/** The bench's results: one JSON document, and the same as Markdown tables. */
import type { Skipped } from "./context.ts";
import type { MachineInfo } from "./machine.ts";
import type { BenchOptions } from "./options.ts";
import type { ChurnResult } from "./scenarios/churn.ts";
import type { CycleResult } from "./scenarios/cycle.ts";
import type { LeasesResult } from "./scenarios/leases.ts";
import type { PhaseTimes, ProfileResult } from "./scenarios/profile.ts";
import { callsOf, type ScenarioResources } from "./scenarios/resources.ts";
import type { VersionResult } from "./scenarios/version.ts";
import type { Comparison, Summary } from "./stats.ts";

export interface Failed {
  failed: string;
}

type Outcome<T> = T | Skipped | Failed;

export interface BenchResults {
  startedAt: string;
  seconds: number;
  command: string;
  machine: MachineInfo;
  options: BenchOptions;
  suites: { reference: string; ours: string };
  scenarios: {
    version?: Outcome<VersionResult>;
    bridge?: Outcome<CycleResult>;
    chain?: Outcome<CycleResult>;
    "chain-bandwidth"?: Outcome<CycleResult>;
    churn?: Outcome<ChurnResult>;
    leases?: Outcome<LeasesResult>;
    rss?: Outcome<Record<string, Outcome<ScenarioResources>>>;
    profile?: Outcome<ProfileResult>;
  };
}

export function isMeasured<T>(outcome: Outcome<T> | undefined): outcome is T {
  return outcome !== undefined && !("skipped" in (outcome as object)) && !("failed" in (outcome as object));
}

/** The project's targets, checked against one run. */
export interface TargetCheck {
  measure: string;
  reference: string;
  ours: string;
  value: string;
  target: string;
  met: boolean | undefined;
}

const RSS_LIMIT_MIB = 50;

export function checkTargets(results: BenchResults): TargetCheck[] {
  const { scenarios } = results;
  const checks: TargetCheck[] = [];
  const cycleTarget = (name: "bridge" | "chain" | "chain-bandwidth", label: string, limit: number) => {
    const outcome = scenarios[name];
    if (!isMeasured(outcome)) {
      checks.push({ measure: label, reference: "", ours: "", value: notMeasured(outcome), target: `<= ${limit}`, met: undefined });
      return;
    }
    checks.push({
      measure: label,
      reference: ms(outcome.cycle.reference.median),
      ours: ms(outcome.cycle.ours.median),
      value: ratio(outcome.cycle.ratio),
      target: `<= ${limit}`,
      met: outcome.cycle.ratio <= limit,
    });
  };
  const version = scenarios.version;
  checks.push(
    isMeasured(version)
      ? {
          measure: "VERSION start-up (all plugins)",
          reference: ms(version.all.reference.median),
          ours: ms(version.all.ours.median),
          value: ratio(version.all.ratio),
          target: "<= 4",
          met: version.all.ratio <= 4,
        }
      : { measure: "VERSION start-up", reference: "", ours: "", value: notMeasured(version), target: "<= 4", met: undefined },
  );
  cycleTarget("bridge", "bridge + host-local ADD+DEL", 0.8);
  cycleTarget("chain", "podman chain ADD+DEL", 0.7);
  cycleTarget("chain-bandwidth", "podman chain + bandwidth ADD+DEL", 0.8);
  const leases = scenarios.leases;
  checks.push(
    isMeasured(leases)
      ? {
          measure: `DEL at ${leases.growth.to} leases / at ${leases.growth.from}`,
          reference: ratio(leases.growth.reference),
          ours: ratio(leases.growth.ours),
          value: ratio(leases.growth.ours),
          target: "<= 1.2 (ours)",
          met: leases.growth.ours <= 1.2,
        }
      : { measure: "DEL lease growth", reference: "", ours: "", value: notMeasured(leases), target: "<= 1.2", met: undefined },
  );
  const churn = scenarios.churn;
  checks.push(
    isMeasured(churn)
      ? {
          measure: "churn throughput (containers/s)",
          reference: churn.throughput.reference.median.toFixed(1),
          ours: churn.throughput.ours.median.toFixed(1),
          value: ratio(churn.throughput.ratio),
          target: ">= 1.3",
          met: churn.throughput.ratio >= 1.3 && churnClean(churn),
        }
      : { measure: "churn throughput", reference: "", ours: "", value: notMeasured(churn), target: ">= 1.3", met: undefined },
  );
  const rss = scenarios.rss;
  if (isMeasured(rss)) {
    const peaks = Object.values(rss)
      .filter(isMeasured)
      .flatMap((resources) => Object.values(resources.ours).map((call) => call.peakRssMiB));
    const referencePeaks = Object.values(rss)
      .filter(isMeasured)
      .flatMap((resources) => Object.values(resources.reference).map((call) => call.peakRssMiB));
    const peak = Math.max(...peaks);
    checks.push({
      measure: "peak RSS per plugin process (MiB)",
      reference: Math.max(...referencePeaks).toFixed(1),
      ours: peak.toFixed(1),
      value: `${peak.toFixed(1)} MiB`,
      target: `<= ${RSS_LIMIT_MIB} MiB`,
      met: peak <= RSS_LIMIT_MIB,
    });
  } else {
    checks.push({ measure: "peak RSS per plugin process", reference: "", ours: "", value: notMeasured(rss), target: `<= ${RSS_LIMIT_MIB} MiB`, met: undefined });
  }
  return checks;
}

function churnClean(churn: ChurnResult): boolean {
  return [...churn.reference, ...churn.ours].every((round) => round.duplicates.length === 0 && round.failures.length === 0);
}

function notMeasured(outcome: unknown): string {
  if (outcome === undefined) return "not run";
  if (typeof outcome === "object" && outcome !== null && "skipped" in outcome) return `skipped: ${(outcome as Skipped).skipped}`;
  if (typeof outcome === "object" && outcome !== null && "failed" in outcome) return `failed: ${(outcome as Failed).failed}`;
  return "not run";
}

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : "–";
}

function ratio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : "–";
}

function range(summary: Summary): string {
  return summary.n === 0 ? "–" : `${ms(summary.median)} (${ms(summary.min)}–${ms(summary.max)})`;
}

function comparisonRow(label: string, comparison: Comparison): string {
  return `| ${label} | ${range(comparison.reference)} | ${range(comparison.ours)} | ${ratio(comparison.ratio)} |`;
}

export function renderMarkdown(results: BenchResults): string {
  const { machine, scenarios } = results;
  const lines: string[] = [
    "# Benchmark results",
    "",
    `Run \`${results.command}\` on ${results.startedAt} (${Math.round(results.seconds)} s).`,
    "",
    `- Machine: ${machine.cpuModel}, ${machine.cores} cores, Linux ${machine.kernel}; load average ${machine.loadAtStart.toFixed(2)} at the start`,
    `- Ours: commit ${machine.commit}${machine.dirty ? " with uncommitted changes" : ""}, ${results.suites.ours}; Bun ${machine.bun}`,
    `- Reference: ${machine.referencePackage}, ${results.suites.reference}`,
    "- Times in milliseconds: median (min–max); ratio = median of per-pair ratios ours / reference (A and B run back to back in each pair).",
    "",
    "## Targets",
    "",
    "| measure | reference | ours | value | target | met |",
    "| --- | --- | --- | --- | --- | --- |",
    ...checkTargets(results).map(
      (check) => `| ${check.measure} | ${check.reference} | ${check.ours} | ${check.value} | ${check.target} | ${check.met === undefined ? "–" : check.met ? "yes" : "no"} |`,
    ),
    "",
  ];

  const version = scenarios.version;
  lines.push("## VERSION per process (start-up floor)", "");
  if (isMeasured(version)) {
    lines.push("| plugin | reference | ours | ratio | ours CPU |", "| --- | --- | --- | --- | --- |");
    for (const [type, comparison] of Object.entries(version.plugins)) {
      lines.push(`${comparisonRow(type, comparison)} ${ms(comparison.cpu.ours.median)} |`);
    }
    lines.push(`${comparisonRow("**all**", version.all)} |`, "", `Driver overhead per process (/bin/true through the same driver): ${range(version.driverOverhead)} ms.`, "");
  } else {
    lines.push(notMeasured(version), "");
  }

  for (const [name, title] of [
    ["bridge", "bridge + host-local"],
    ["chain", "podman chain: bridge + host-local -> portmap -> firewall -> tuning"],
    ["chain-bandwidth", "podman chain + bandwidth"],
  ] as const) {
    const outcome = scenarios[name];
    lines.push(`## ${title}: ADD+DEL cycle`, "");
    if (!isMeasured(outcome)) {
      lines.push(notMeasured(outcome), "");
      continue;
    }
    lines.push(
      "| | reference | ours | ratio |",
      "| --- | --- | --- | --- |",
      comparisonRow("**ADD+DEL**", outcome.cycle),
      comparisonRow("ADD", outcome.add),
      comparisonRow("DEL", outcome.del),
      ...Object.entries(outcome.calls).map(([call, comparison]) => comparisonRow(call, comparison)),
      "",
      `CPU per cycle (all plugin processes, user + system): reference ${range(outcome.cpu.reference)}, ours ${range(outcome.cpu.ours)}.`,
      "",
    );
  }

  const churn = scenarios.churn;
  lines.push("## Churn", "");
  if (isMeasured(churn)) {
    lines.push(
      `${churn.containers} containers (bridge + host-local, a /26), ${churn.parallel} operations in flight, ${churn.held} kept attached; each round's addresses checked against those held at the time.`,
      "",
      "| round | containers/s | addresses handed out | distinct | duplicates | most held at once | leases left | failures |",
      "| --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const side of ["reference", "ours"] as const) {
      churn[side].forEach((round, index) => {
        lines.push(
          `| ${side} ${index + 1} | ${round.containersPerSecond.toFixed(1)} | ${round.addressesHandedOut} | ${round.distinctAddresses} | ${round.duplicates.length} | ${round.maxHeld} | ${round.leasesLeft} | ${round.failures.length} |`,
        );
      });
    }
    lines.push("", `Throughput ours / reference: ${ratio(churn.throughput.ratio)}.`, "");
  } else {
    lines.push(notMeasured(churn), "");
  }

  const leases = scenarios.leases;
  lines.push("## DEL cost with existing leases (host-local alone)", "");
  if (isMeasured(leases)) {
    lines.push("| existing leases | DEL reference | DEL ours | ratio | ADD reference | ADD ours |", "| --- | --- | --- | --- | --- | --- |");
    for (const count of leases.counts) {
      lines.push(`| ${count.leases} | ${range(count.del.reference)} | ${range(count.del.ours)} | ${ratio(count.del.ratio)} | ${range(count.add.reference)} | ${range(count.add.ours)} |`);
    }
    lines.push("", `DEL at ${leases.growth.to} / DEL at ${leases.growth.from}: reference ${ratio(leases.growth.reference)}, ours ${ratio(leases.growth.ours)}.`, "");
  } else {
    lines.push(notMeasured(leases), "");
  }

  const rss = scenarios.rss;
  lines.push("## Peak RSS and programs started, per plugin call", "");
  if (isMeasured(rss)) {
    for (const [name, resources] of Object.entries(rss)) {
      lines.push(`### ${name}`, "");
      if (!isMeasured(resources)) {
        lines.push(notMeasured(resources), "");
        continue;
      }
      lines.push("| call | reference MiB | ours MiB | reference starts | ours starts |", "| --- | --- | --- | --- | --- |");
      for (const call of callsOf(resources)) {
        const reference = resources.reference[call];
        const ours = resources.ours[call];
        lines.push(`| ${call} | ${reference ? reference.peakRssMiB.toFixed(1) : "–"} | ${ours ? ours.peakRssMiB.toFixed(1) : "–"} | ${programs(reference?.started)} | ${programs(ours?.started)} |`);
      }
      lines.push("");
    }
  } else {
    lines.push(notMeasured(rss), "");
  }

  const profile = scenarios.profile;
  lines.push("## Profile of one ADD of ours", "");
  if (isMeasured(profile)) {
    const cycle = scenarios[profile.list.length > 1 ? "chain" : "bridge"];
    lines.push(...renderProfile(profile, isMeasured(cycle) ? cycle.calls : undefined));
  }
  else lines.push(notMeasured(profile), "");
  return `${lines.join("\n")}\n`;
}

function programs(started: Record<string, number> | undefined): string {
  if (!started) return "–";
  const entries = Object.entries(started);
  return entries.length === 0 ? "none" : entries.map(([name, count]) => `${name} x${count}`).join(", ");
}

/**
 * The profile, with each call's untraced wall time from the cycle scenario of the same list
 * (`calls`), since tracing slows what it traces: child processes most, as strace follows them.
 */
function renderProfile(profile: ProfileResult, calls: Record<string, Comparison> | undefined): string[] {
  const phase = (times: PhaseTimes, key: keyof Omit<PhaseTimes, "children">) => ms(times[key].median);
  const lines = [
    `List: ${profile.list.join(" -> ")}. Runtime floor (an empty program compiled with the same flags): ${range(profile.runtimeFloor)} ms.`,
    "",
    "Timeline per plugin process, from strace (median of runs). strace slows the traced calls a little and",
    "the child processes it follows a lot, so their time is left out here: see the CPU profile's spawnSync",
    "row below for it, untraced. The last column is the call's untraced wall time in the cycle scenario.",
    "",
    "| plugin ADD | start-up + module loading | config parsing (+ IPAM plugin load) | work in the plugin | exit | child processes | untraced wall |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    `| (empty program, for calibration) | ${ms(profile.tracedRuntimeFloor.median)} | | | | | ${ms(profile.runtimeFloor.median)} |`,
  ];
  for (const [type, times] of Object.entries(profile.timeline)) {
    const untraced = calls?.[`${type} ADD`]?.ours.median;
    lines.push(
      `| ${type} | ${phase(times, "startupAndModules")} | ${phase(times, "configParsing")} | ${phase(times, "workInPlugin")} | ${phase(times, "exit")} | ${programs(times.children)} | ${untraced === undefined ? "–" : ms(untraced)} |`,
    );
  }
  const cpuEntries = Object.entries(profile.cpu);
  const categoryNames = Object.keys(cpuEntries[0]?.[1].categories ?? {});
  lines.push(
    "",
    "CPU profile (JavaScript thread, sampled; mean ms per ADD, so with some profiler overhead):",
    "",
    `| where | ${cpuEntries.map(([type]) => type).join(" | ")} |`,
    `| --- | ${cpuEntries.map(() => "---").join(" | ")} |`,
    ...categoryNames.map((category) => `| ${category} | ${cpuEntries.map(([, cpu]) => ms(cpu.categories[category] ?? 0)).join(" | ")} |`),
    `| **sampled in all** | ${cpuEntries.map(([, cpu]) => ms(cpu.totalMs)).join(" | ")} |`,
    "",
    "Busiest functions:",
    "",
  );
  for (const [type, cpu] of cpuEntries) {
    const list = (entries: { name: string; ms: number }[]) => entries.map((entry) => `\`${entry.name}\` ${ms(entry.ms)}`).join(", ");
    lines.push(`- **${type}**, inclusive: ${list(cpu.top)}`);
    lines.push(`  - self: ${list(cpu.topSelf)}`);
  }
  lines.push("");
  return lines;
}
