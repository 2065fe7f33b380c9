import { compareVersionNumbers } from "../core/index.ts";
import type { ToolExecutor, ToolOutput } from "./exec.ts";
import { IPTABLES_TOOLS } from "./iptables/family.ts";
import { iptablesNftAnswers } from "./iptables/save.ts";

export const FIREWALL_BACKENDS = ["iptables", "nftables"] as const;
export type FirewallBackendName = (typeof FIREWALL_BACKENDS)[number];

/** Whether each backend can be used on this host (or in the executor's namespace). */
export interface BackendProbes {
  iptablesUsable(): boolean;
  nftablesUsable(): boolean;
}

/**
 * The backend to use: the configured one, else iptables unless only nftables is usable. This
 * is the reference's rule; it keeps hosts that run other iptables users (kube-proxy, docker)
 * on iptables and needs nothing from the user on nftables-only hosts.
 */
export function chooseBackend(configured: FirewallBackendName | undefined, probes: BackendProbes): FirewallBackendName {
  if (configured !== undefined) return configured;
  if (!probes.iptablesUsable() && probes.nftablesUsable()) return "nftables";
  return "iptables";
}

/**
 * chooseBackend for a feature that, on iptables, starts by reading `table` with iptables-save
 * (masquerading, port mappings). chooseBackend must know whether iptables is usable, and
 * starting `iptables -S` to ask costs a process (~2 ms per ADD on an idle machine). When the
 * tools are iptables-nft run here, nf_tables answering over netlink is that answer, and the
 * feature reads only if it needs to (masquerading of a new container does not). Otherwise the
 * feature's first reading is made here: when it succeeds, iptables ran and talked to the
 * kernel, which is all the probe asks, and the feature gets that reading as its first one
 * instead of making it again. When it fails, the probes decide as chooseBackend always does.
 */
export function chooseBackendForTable(
  configured: FirewallBackendName | undefined,
  executor: ToolExecutor,
  table: string,
): { backend: FirewallBackendName; executor: ToolExecutor } {
  if (configured !== undefined) return { backend: configured, executor };
  if (iptablesNftAnswers(executor, IPTABLES_TOOLS[4], table)) return { backend: "iptables", executor };
  const args = ["-t", table];
  const reading = executor.run(IPTABLES_TOOLS[4].save, args);
  if (reading.status === 0) return { backend: "iptables", executor: answeringFirstRun(executor, IPTABLES_TOOLS[4].save, args, reading) };
  return { backend: chooseBackend(undefined, toolProbes(executor)), executor };
}

/** `executor`, except that the first run of exactly `tool args` (no input) gets `output` without running. */
function answeringFirstRun(executor: ToolExecutor, tool: string, args: readonly string[], output: ToolOutput): ToolExecutor {
  let answer: ToolOutput | undefined = output;
  const matches = (runTool: string, runArgs: readonly string[], input: string | undefined) =>
    input === undefined && runTool === tool && runArgs.length === args.length && runArgs.every((arg, index) => arg === args[index]);
  return {
    local: executor.local,
    run(runTool, runArgs, input) {
      if (answer === undefined || !matches(runTool, runArgs, input)) return executor.run(runTool, runArgs, input);
      const first = answer;
      answer = undefined;
      return first;
    },
  };
}

/** The oldest nft whose scripts and JSON the reference (knftables) accepts. */
const OLDEST_NFT = [1, 0, 1];

/** Probes that ask the tools themselves; each runs only when chooseBackend needs its answer. */
export function toolProbes(executor: ToolExecutor): BackendProbes {
  return {
    // As the reference: iptables works if it can list a built-in chain ("no such chain", exit
    // status 1, still counts: the tool ran and talked to the kernel).
    iptablesUsable() {
      const { status } = executor.run("iptables", ["-w", "-t", "filter", "-S", "INPUT", "1"]);
      return status === 0 || status === 1;
    },
    // As the reference: nft is new enough and may create a table (dry run, nothing is changed).
    nftablesUsable() {
      const version = executor.run("nft", ["--version"]);
      const match = /v(\d+)\.(\d+)\.(\d+)/.exec(version.stdout);
      if (version.status !== 0 || !match || compareVersionNumbers(match.slice(1).map(Number), OLDEST_NFT) < 0) return false;
      return executor.run("nft", ["--check", "-f", "-"], "add table inet cni_supports_nftables_test\n").status === 0;
    },
  };
}
