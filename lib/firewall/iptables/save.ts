import { realpathSync } from "node:fs";
import { basename } from "node:path";
import { findTool, runTool, type ToolExecutor } from "../exec.ts";
import { nftTableExists } from "../nftables/table-exists.ts";
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
 * True when this family's `table` certainly holds nothing: the tools are iptables-nft, run here,
 * and nf_tables says the table does not exist (asked over netlink, ~0.1 ms, where an
 * iptables-save process costs ~3 ms). False whenever that is not certain (iptables-legacy, tools
 * run elsewhere, the kernel not answering): then read the table.
 */
export function iptablesTableAbsent(executor: ToolExecutor, tools: IptablesTools, table: string): boolean {
  if (!executor.local || !isNftBased(tools.save)) return false;
  return nftTableExists(tools.family === 4 ? "ip" : "ip6", table) === false;
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
