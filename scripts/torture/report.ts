/**
 * The run's tables (Markdown, on stdout) and the verdict: what of ours failed. The reference's
 * numbers are printed beside ours for comparison and never fail the run.
 */
import type { PluginFuzzResult } from "./fuzz.ts";
import type { TortureResults, SuiteResults } from "./run.ts";
import { grewInMemory } from "./soak.ts";

const FINDINGS_SHOWN = 8;

export function renderReport(results: TortureResults): string {
  const { options } = results;
  const lines: string[] = [`# Torture run (seed ${options.seed}, ${results.seconds} s)`, ""];
  const suites = Object.entries(results.suites) as [string, SuiteResults][];

  if (suites.some(([, suite]) => suite.fuzz)) {
    lines.push(`## Fuzzing: ${options.cases} cases per plugin, ${options.timeoutMs / 1000} s to answer`, "");
    lines.push("| plugin | suite | cases | invocations | ok | error object | crash | hang | residue |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    const plugins = [...new Set(suites.flatMap(([, suite]) => (suite.fuzz ?? []).map((result) => result.plugin)))];
    for (const plugin of plugins) {
      for (const [id, suite] of suites) {
        const result = suite.fuzz?.find((entry) => entry.plugin === plugin);
        if (!result) continue;
        if (result.skipped) lines.push(`| ${plugin} | ${id} | skipped: ${result.skipped} | | | | | | |`);
        else lines.push(fuzzRow(plugin, id, result));
      }
    }
    for (const [id, suite] of suites) if (suite.fuzz) lines.push(fuzzRow("**all**", id, total(suite.fuzz)));
    lines.push("");
    for (const [id, suite] of suites) {
      const codes = total(suite.fuzz ?? []).codes;
      if (Object.keys(codes).length > 0) {
        lines.push(`Error codes answered (${id}): ${Object.entries(codes).map(([code, count]) => `${code}: ${count}`).join(", ")}`, "");
      }
    }
    for (const [id, suite] of suites) {
      const findings = (suite.fuzz ?? []).flatMap((result) => result.findings.slice(0, FINDINGS_SHOWN));
      if (findings.length === 0) continue;
      lines.push(`Findings (${id}, at most ${FINDINGS_SHOWN} per plugin):`, "");
      for (const finding of findings) {
        const bad = finding.invocations.filter((invocation) => invocation.class === "crash" || invocation.class === "hang");
        const what = [
          ...bad.map((invocation) => `${invocation.command} ${invocation.class}: ${invocation.detail}`),
          ...(finding.residue.length > 0 ? [`residue: ${finding.residue.slice(0, 4).join("; ")}${finding.residue.length > 4 ? "; ..." : ""}`] : []),
        ];
        lines.push(`- ${finding.plugin} case ${finding.index} (${finding.mutations.join(", ")}): ${what.join(" / ")}`);
      }
      lines.push("");
    }
  }

  if (suites.some(([, suite]) => suite.kill)) {
    lines.push(`## kill -9 of the runtime in the podman chain (+ bandwidth), then DEL without a cached result`, "");
    lines.push("| suite | tries | runtime killed alone | with its plugins | finished before the kill | DEL failures | leaks |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (const [id, suite] of suites) {
      const kill = suite.kill;
      if (kill) lines.push(`| ${id} | ${kill.tries} | ${kill.killedRuntime} | ${kill.killedGroup} | ${kill.finishedFirst} | ${kill.delFailures} | ${kill.leaks} |`);
    }
    lines.push("");
    for (const [id, suite] of suites) {
      for (const finding of (suite.kill?.findings ?? []).slice(0, FINDINGS_SHOWN)) {
        const where = `${finding.victim === "runtime" ? "runtime alone" : "whole group"} at ${finding.atMs} ms${finding.netnsGone ? ", netns gone before DEL" : ""}`;
        lines.push(`- ${id} try ${finding.index} (${where}): ${finding.delFailure ? `DEL failed: ${finding.delFailure}; ` : ""}${finding.leak.slice(0, 4).join("; ")}`);
      }
    }
    lines.push("");
  }

  if (suites.some(([, suite]) => suite.soak)) {
    lines.push("## Soak: ADD and DEL of the chain for a new container, cycle after cycle", "");
    lines.push("| suite | cycles | failures | host items changed | processes in host ns (start → end) | their fds | cycle ms (first → last) | plugin peak RSS MiB (first → last) |", "| --- | ---: | ---: | ---: | --- | --- | --- | --- |");
    for (const [id, suite] of suites) {
      const soak = suite.soak;
      if (!soak) continue;
      const rss = Object.entries(soak.rss).map(([plugin, { first, last }]) => `${plugin} ${(first / 1024).toFixed(0)} → ${(last / 1024).toFixed(0)}`).join(", ");
      lines.push(`| ${id} | ${soak.cycles} | ${soak.failures.length} | ${soak.changed.length} | ${soak.processes.start} → ${soak.processes.end} | ${soak.fds.start} → ${soak.fds.end} | ${soak.cycleMs.first} → ${soak.cycleMs.last} | ${rss} |`);
    }
    lines.push("");
    for (const [id, suite] of suites) for (const problem of [...(suite.soak?.failures ?? []), ...(suite.soak?.changed ?? [])].slice(0, FINDINGS_SHOWN)) lines.push(`- ${id}: ${problem}`);
    lines.push("");
  }

  if (suites.some(([, suite]) => suite.parallel)) {
    lines.push("## Parallel: N chain ADDs at once, then N DELs at once", "");
    lines.push("| suite | attachments × rounds | ADD failures | DEL failures | duplicate addresses | residue items | seconds |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (const [id, suite] of suites) {
      const parallel = suite.parallel;
      if (parallel) {
        lines.push(`| ${id} | ${parallel.attachments} × ${parallel.rounds} | ${parallel.addFailures.length} | ${parallel.delFailures.length} | ${parallel.duplicates.length} | ${parallel.residue.length} | ${parallel.seconds} |`);
      }
    }
    lines.push("");
    for (const [id, suite] of suites) {
      const parallel = suite.parallel;
      if (!parallel) continue;
      for (const problem of [...parallel.addFailures, ...parallel.delFailures, ...parallel.duplicates, ...parallel.residue].slice(0, FINDINGS_SHOWN)) lines.push(`- ${id}: ${problem}`);
    }
    lines.push("");
  }
  return `${lines.join("\n").replace(/\n{3,}/g, "\n\n")}\n`;
}

function fuzzRow(plugin: string, suite: string, result: PluginFuzzResult): string {
  return `| ${plugin} | ${suite} | ${result.cases} | ${result.invocations} | ${result.ok} | ${result.error} | ${result.crash} | ${result.hang} | ${result.residue} |`;
}

function total(results: readonly PluginFuzzResult[]): PluginFuzzResult {
  const sum: PluginFuzzResult = { plugin: "all", cases: 0, invocations: 0, ok: 0, error: 0, crash: 0, hang: 0, residue: 0, codes: {}, findings: [] };
  for (const result of results) {
    for (const key of ["cases", "invocations", "ok", "error", "crash", "hang", "residue"] as const) sum[key] += result[key];
    for (const [code, count] of Object.entries(result.codes)) sum.codes[code] = (sum.codes[code] ?? 0) + count;
  }
  return sum;
}

/** What of ours failed: every crash, hang, residue and leak, and a soak or parallel run that was not clean. */
export function failures(results: TortureResults): string[] {
  const ours = results.suites.ours;
  if (!ours) return [];
  const problems: string[] = [];
  for (const result of ours.fuzz ?? []) {
    for (const [what, count] of [["crashes", result.crash], ["hangs", result.hang], ["cases with residue", result.residue]] as const) {
      if (count > 0) problems.push(`fuzz ${result.plugin}: ${count} ${what}`);
    }
  }
  if (ours.kill && (ours.kill.leaks > 0 || ours.kill.delFailures > 0)) problems.push(`kill: ${ours.kill.leaks} leaks, ${ours.kill.delFailures} DEL failures in ${ours.kill.tries} tries`);
  const soak = ours.soak;
  if (soak) {
    if (soak.failures.length > 0) problems.push(`soak: ${soak.failures.length} failed cycles`);
    if (soak.changed.length > 0) problems.push(`soak: ${soak.changed.length} host items changed`);
    if (soak.processes.end > soak.processes.start || soak.fds.end > soak.fds.start) problems.push("soak: processes or descriptors left in the host namespace");
    for (const [plugin, rss] of Object.entries(soak.rss)) if (grewInMemory(rss)) problems.push(`soak: ${plugin} grew from ${rss.first} to ${rss.last} KiB`);
  }
  const parallel = ours.parallel;
  if (parallel) {
    const count = parallel.addFailures.length + parallel.delFailures.length + parallel.duplicates.length + parallel.residue.length;
    if (count > 0) problems.push(`parallel: ${parallel.addFailures.length} ADD failures, ${parallel.delFailures.length} DEL failures, ${parallel.duplicates.length} duplicates, ${parallel.residue.length} residue items`);
  }
  return problems;
}
