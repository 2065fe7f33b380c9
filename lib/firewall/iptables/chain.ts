import type { RestoreScript } from "./restore.ts";
import { formatArgs, sameArgs, type RuleArgs } from "./rule.ts";
import type { IptablesTable } from "./save.ts";

/** A rule in another chain that leads into a container's chain; its args end in "-j <chain>". */
export interface ChainEntry {
  chain: string;
  args: RuleArgs;
}

/**
 * A chain that belongs to one container (named with formatChainName), the rules it holds and
 * the entry rules in shared chains (POSTROUTING, a top-level DNAT chain) that lead into it.
 * Features describe their per-container chains with this and leave the writing to the
 * functions below.
 */
export interface ContainerChain {
  name: string;
  rules: readonly RuleArgs[];
  entries: readonly ChainEntry[];
}

/**
 * Writes the chain with exactly its rules, creating it or emptying it first (so a chain someone
 * tampered with is repaired), then appends the entry rules that are not there yet. Writes
 * nothing for what is already as it should be.
 */
export function writeChainSetup(script: RestoreScript, current: IptablesTable, chain: ContainerChain): void {
  if (!holdsExactly(current, chain)) {
    script.declareChain(chain.name);
    for (const rule of chain.rules) script.append(chain.name, rule);
  }
  for (const entry of chain.entries) {
    if (!current.hasRule(entry.chain, entry.args)) script.append(entry.chain, entry.args);
  }
}

function holdsExactly(current: IptablesTable, chain: ContainerChain): boolean {
  const rules = current.rules(chain.name);
  return (
    current.hasChain(chain.name) &&
    rules.length === chain.rules.length &&
    rules.every((rule, index) => sameArgs(rule.args, chain.rules[index]!))
  );
}

/**
 * Removes every rule in the table that leads into the chain (whatever form an older version
 * wrote it in), then the chain itself. Writes nothing when neither is there.
 */
export function writeChainTeardown(script: RestoreScript, current: IptablesTable, name: string): void {
  for (const reference of current.referencesTo(name)) script.delete(reference.chain, reference.args);
  if (current.hasChain(name)) script.flushChain(name).deleteChain(name);
}

/** What of the chain is not in the table, each as the line that would add it; empty when complete. */
export function missingFromTable(current: IptablesTable, chain: ContainerChain): string[] {
  if (!current.hasChain(chain.name)) return [`chain ${chain.name}`];
  const missing = [
    ...chain.rules.filter((rule) => !current.hasRule(chain.name, rule)).map((rule) => ({ chain: chain.name, args: rule })),
    ...chain.entries.filter((entry) => !current.hasRule(entry.chain, entry.args)),
  ];
  return missing.map((rule) => `rule "-A ${rule.chain} ${formatArgs(rule.args)}"`);
}
