import type { IPFamily } from "../../ip/index.ts";
import type { ToolExecutor } from "../exec.ts";
import { IPTABLES_TOOLS } from "../iptables/family.ts";
import { applyRestore, type RestoreScript } from "../iptables/restore.ts";
import { formatArgs, sameArgs, type RuleArgs } from "../iptables/rule.ts";
import { readIptablesTable, type IptablesTable } from "../iptables/save.ts";
import { commitFromFreshState } from "../commit.ts";

/**
 * The filter table, where the firewall plugin's rules live, and what its features share: rules
 * placed in a chain that may also be known by an older spelling, and a commit that is planned
 * again from a fresh reading when another plugin process changed the table in between.
 */
export const FILTER = "filter";

export interface PlacedRule {
  chain: string;
  args: RuleArgs;
  /** Older spellings of the same rule (another comment) that count as the rule being there. */
  alsoKnownAs?: readonly RuleArgs[];
}

export function isPresent(current: IptablesTable, rule: PlacedRule): boolean {
  return [rule.args, ...(rule.alsoKnownAs ?? [])].some((args) => current.hasRule(rule.chain, args));
}

/** Creates the chains the table lacks (failing the commit, not emptying them, if they appear meanwhile). */
export function writeMissingChains(script: RestoreScript, current: IptablesTable, chains: readonly string[]): void {
  for (const chain of chains) if (!current.hasChain(chain)) script.createChain(chain);
}

/** What of the chains and rules is not in the table, each as the line that would add it. */
export function missingPieces(current: IptablesTable, chains: readonly string[], rules: readonly PlacedRule[]): string[] {
  const absentChains = chains.filter((chain) => !current.hasChain(chain));
  const absentRules = rules.filter((rule) => !absentChains.includes(rule.chain) && !isPresent(current, rule));
  return [...absentChains.map((chain) => `chain ${chain}`), ...absentRules.map((rule) => `rule "-A ${rule.chain} ${formatArgs(rule.args)}"`)];
}

/** Each rule once, in its first position. */
export function uniqueRules<R extends PlacedRule>(rules: readonly R[]): R[] {
  return rules.filter((rule, index) => rules.findIndex((other) => other.chain === rule.chain && sameArgs(other.args, rule.args)) === index);
}

export function readFilterTable(executor: ToolExecutor, family: IPFamily): IptablesTable {
  return readIptablesTable(executor, IPTABLES_TOOLS[family], FILTER);
}

/**
 * Reads the family's filter table (through `read`, when a reading was made already), plans the
 * change against it and applies it in one iptables-restore.
 */
export function commitToFilterTable(
  executor: ToolExecutor,
  family: IPFamily,
  plan: (current: IptablesTable) => RestoreScript,
  read: () => IptablesTable = () => readFilterTable(executor, family),
): void {
  commitFromFreshState(
    () => plan(read()),
    (script) => applyRestore(executor, IPTABLES_TOOLS[family], script),
  );
}
