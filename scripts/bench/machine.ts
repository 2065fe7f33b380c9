/** What a result was measured on: the machine, the tools and the commit. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, release } from "node:os";

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  kernel: string;
  bun: string;
  /** Load average (1 min) when the run started: other work on the machine inflates timings. */
  loadAtStart: number;
  commit: string;
  /** Files changed since the commit (the run measured a work tree, not exactly the commit). */
  dirty: boolean;
  referencePackage: string;
}

export function describeMachine(): MachineInfo {
  return {
    cpuModel: cpuModel(),
    cores: cpus().length,
    kernel: release(),
    bun: Bun.version,
    loadAtStart: loadavg()[0]!,
    commit: tryRun("git", ["rev-parse", "--short=12", "HEAD"]) ?? "unknown",
    dirty: (tryRun("git", ["status", "--porcelain", "--untracked-files=no"]) ?? "") !== "",
    referencePackage: tryRun("dpkg-query", ["-W", "-f", "${Package} ${Version}", "containernetworking-plugins"]) ?? "unknown",
  };
}

function cpuModel(): string {
  const line = readFileSync("/proc/cpuinfo", "utf8")
    .split("\n")
    .find((text) => text.startsWith("model name"));
  return line?.split(":")[1]?.trim() ?? cpus()[0]?.model ?? "unknown";
}

function tryRun(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}
