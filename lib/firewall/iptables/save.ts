import { realpathSync } from "node:fs";
import { basename } from "node:path";
import { findTool, runTool, type ToolExecutor } from "../exec.ts";
import { nftChainExists, nftTableExists } from "../nftables/exists.ts";
import type { IptablesTools } from "./family.ts";
import { ruleTarget, sameArgs, splitArgs, type RuleArgs } from "./rule.ts";

/** One rule read back from iptables-save. */
export interface SavedRule {
  chain: string;
  args: RuleArgs;
}

/**
 * One table of one family as iptables-save printed it: which chains exist and their rules in
 * order. Read once per operation; every decision (what to add, what to delete, what is
 * missing) is then made against it, and all changes go out in one iptables-restore.
 */
export class IptablesTable {
  constructor(
    readonly name: string,
    private readonly chains: ReadonlyMap<string, readonly SavedRule[]>,
  ) {}

  /** The table as a plan sees it when none of the chains it touches exists yet. */
  static withoutChains(name: string): IptablesTable {
    return new IptablesTable(name, new Map());
  }

  hasChain(chain: string): boolean {
    return this.chains.has(chain);
  }

  chainNames(): string[] {
    return [...this.chains.keys()];
  }

  rules(chain: string): readonly SavedRule[] {
    return this.chains.get(chain) ?? [];
  }

  hasRule(chain: string, args: RuleArgs): boolean {
    return this.rules(chain).some((rule) => sameArgs(rule.args, args));
  }

  /** Every rule, in any chain, that jumps or goes to `chain`. */
  referencesTo(chain: string): SavedRule[] {
    return [...this.chains.values()].flat().filter((rule) => ruleTarget(rule.args) === chain);
  }
}

/** Runs `iptables-save -t <table>` (or ip6tables-save) and parses it. */
export function readIptablesTable(executor: ToolExecutor, tools: IptablesTools, table: string): IptablesTable {
  return parseIptablesSave(runTool(executor, tools.save, ["-t", table]), table);
}

/**
 * What nf_tables says of `chains` in this family's `table`, asked over netlink (~0.1 ms, where
 * an iptables-save is a process): "absent" when none of them exists, "present" when one does,
 * "unknown" whenever the answer is not certain (iptables-legacy, tools run elsewhere, the
 * kernel not answering), and then the table must be read. Every rule our teardown removes
 * lives in one of its chains or jumps to one, and a jump cannot outlive its target, so for
 * "absent" there is nothing to read.
 */
export function iptablesChainsState(executor: ToolExecutor, tools: IptablesTools, table: string, chains: readonly string[]): "absent" | "present" | "unknown" {
  const family = askableNftFamily(executor, tools);
  if (family === undefined) return "unknown";
  const answers = chains.map((chain) => nftChainExists(family, table, chain));
  if (answers.includes(true)) return "present";
  return answers.every((answer) => answer === false) ? "absent" : "unknown";
}

/**
 * A source of readings for teardown and GC: the first call returns the reading made here, later
 * calls (retries) read afresh. Undefined when the table cannot be listed at all (no IPv6, no
 * ip6tables): such a family holds nothing to remove.
 */
export function readingsOf(read: () => IptablesTable): (() => IptablesTable) | undefined {
  let first: IptablesTable | undefined;
  try {
    first = read();
  } catch {
    return undefined;
  }
  return () => {
    const table = first ?? read();
    first = undefined;
    return table;
  };
}

/**
 * True when iptables certainly works here without starting it: the tools are iptables-nft, run
 * here, and nf_tables answers a question about `table` over netlink (whatever the answer).
 */
export function iptablesNftAnswers(executor: ToolExecutor, tools: IptablesTools, table: string): boolean {
  const family = askableNftFamily(executor, tools);
  return family !== undefined && nftTableExists(family, table) !== undefined;
}

/**
 * The nftables family holding these tools' tables when nf_tables can be asked in their stead:
 * the tools are iptables-nft and run here. Undefined otherwise (iptables-legacy, a prefix).
 */
function askableNftFamily(executor: ToolExecutor, tools: IptablesTools): "ip" | "ip6" | undefined {
  if (!executor.local || !isNftBased(tools.save)) return undefined;
  return tools.family === 4 ? "ip" : "ip6";
}

/** iptables-nft's tools are links to xtables-nft-multi; iptables-legacy's to xtables-legacy-multi. */
function isNftBased(tool: string): boolean {
  try {
    return basename(realpathSync(findTool(tool))) === "xtables-nft-multi";
  } catch {
    return false;
  }
}

/** Parses the section of iptables-save output for one table. */
export function parseIptablesSave(text: string, table: string): IptablesTable {
  const chains = new Map<string, SavedRule[]>();
  let inTable = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("*")) {
      inTable = line.slice(1).trim() === table;
    } else if (!inTable || line.startsWith("#")) {
      continue;
    } else if (line.startsWith(":")) {
      chains.set(line.slice(1).split(" ")[0]!, []);
    } else if (line.startsWith("-A ")) {
      const [, chain, ...args] = splitArgs(line);
      if (chain === undefined) continue;
      if (!chains.has(chain)) chains.set(chain, []);
      chains.get(chain)!.push({ chain, args });
    }
  }
  return new IptablesTable(table, chains);
}
