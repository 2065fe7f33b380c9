import { CniError, ErrorCode } from "../../core/index.ts";
import { groupByFamily, type InterfaceAddress } from "../address.ts";
import { toolProbes } from "../backend.ts";
import { checkFailed } from "../check.ts";
import type { ToolExecutor } from "../exec.ts";
import { IPTABLES_TOOLS } from "../iptables/family.ts";
import { RestoreScript } from "../iptables/restore.ts";
import { sameArgs, type RuleArgs } from "../iptables/rule.ts";
import type { IptablesTable } from "../iptables/save.ts";
import { commitToFilterTable, FILTER, isPresent, missingPieces, readFilterTable, uniqueRules, writeMissingChains, type PlacedRule } from "./filter-table.ts";
import { missingIsolation, writeIsolationSetup } from "./isolation.ts";
import type { BridgeIsolation, ForwardAccessFeature } from "./types.ts";

/**
 * The reference firewall plugin's iptables layout, per IP family in table filter:
 *
 *   :CNI-FORWARD, :CNI-ADMIN                         shared by every container; never removed
 *   -I FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
 *   -I CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN
 *   -A CNI-FORWARD -d <ip>/<32|128> -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
 *   -A CNI-FORWARD -s <ip>/<32|128> -j ACCEPT
 *
 * The last two rules exist once per container address: replies to the container's connections
 * and everything it sends are accepted, whatever the FORWARD policy. CNI-ADMIN (the name is
 * configurable) is the administrator's: its rules run first and are never touched. The address
 * rules carry no comment naming the container, so they are found by address alone.
 */
export const FORWARD_CHAIN = "CNI-FORWARD";
export const DEFAULT_ADMIN_CHAIN = "CNI-ADMIN";

export function forwardJump(): PlacedRule {
  return { chain: "FORWARD", args: ["-m", "comment", "--comment", "CNI firewall plugin rules", "-j", FORWARD_CHAIN] };
}

export function adminJump(adminChain: string): PlacedRule {
  return { chain: FORWARD_CHAIN, args: ["-m", "comment", "--comment", "CNI firewall plugin admin overrides", "-j", adminChain] };
}

/** The two rules of one container address, in the order the reference appends them. */
export function addressRules(addresses: readonly InterfaceAddress[]): PlacedRule[] {
  const rules = addresses.flatMap((address): RuleArgs[] => [
    ["-d", address.host, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
    ["-s", address.host, "-j", "ACCEPT"],
  ]);
  return uniqueRules(rules.map((args) => ({ chain: FORWARD_CHAIN, args })));
}

/** Adds what is missing of the shared chains and jumps (each first in its chain) and the addresses' rules. */
export function writeForwardSetup(script: RestoreScript, current: IptablesTable, addresses: readonly InterfaceAddress[], adminChain: string): void {
  writeMissingChains(script, current, [FORWARD_CHAIN, adminChain]);
  for (const jump of [forwardJump(), adminJump(adminChain)]) {
    if (!isPresent(current, jump)) script.insertFirst(jump.chain, jump.args);
  }
  for (const rule of addressRules(addresses)) {
    if (!isPresent(current, rule)) script.append(rule.chain, rule.args);
  }
}

/** Deletes every copy of the addresses' rules; the shared chains and jumps stay, as with the reference. */
export function writeForwardTeardown(script: RestoreScript, current: IptablesTable, addresses: readonly InterfaceAddress[]): void {
  for (const rule of addressRules(addresses)) {
    for (const copy of current.rules(rule.chain).filter((saved) => sameArgs(saved.args, rule.args))) script.delete(copy.chain, copy.args);
  }
}

export function missingForward(current: IptablesTable, addresses: readonly InterfaceAddress[], adminChain: string): string[] {
  return missingPieces(current, [FORWARD_CHAIN, adminChain], [forwardJump(), adminJump(adminChain), ...addressRules(addresses)]);
}

/** One family's setup as one restore script: the address rules, then the bridge's isolation if asked for. */
export function forwardSetupScript(
  current: IptablesTable,
  addresses: readonly InterfaceAddress[],
  adminChain: string,
  isolation: BridgeIsolation | undefined,
): RestoreScript {
  const script = new RestoreScript(FILTER);
  writeForwardSetup(script, current, addresses, adminChain);
  if (isolation) writeIsolationSetup(script, current, isolation);
  return script;
}

export function forwardTeardownScript(current: IptablesTable, addresses: readonly InterfaceAddress[]): RestoreScript {
  const script = new RestoreScript(FILTER);
  writeForwardTeardown(script, current, addresses);
  return script;
}

export function iptablesForwardAccess(executor: ToolExecutor, adminChain: string): ForwardAccessFeature {
  return {
    backend: "iptables",

    setup({ addresses, isolation }) {
      for (const [family, ofFamily] of groupByFamily(addresses)) {
        commitToFilterTable(executor, family, (current) => forwardSetupScript(current, ofFamily, adminChain, isolation));
      }
    },

    teardown(addresses) {
      for (const [family, ofFamily] of groupByFamily(addresses)) {
        commitToFilterTable(executor, family, (current) => forwardTeardownScript(current, ofFamily));
      }
    },

    check({ addresses, isolation }) {
      const missing = [...groupByFamily(addresses)].flatMap(([family, ofFamily]) => {
        const current = readFilterTable(executor, family);
        const pieces = [...missingForward(current, ofFamily, adminChain), ...(isolation ? missingIsolation(current, isolation) : [])];
        return pieces.map((piece) => `${piece} in ${IPTABLES_TOOLS[family].name} table ${FILTER}`);
      });
      if (missing.length > 0) throw checkFailed(missing);
    },

    ensureUsable() {
      ensureIptablesUsable(executor);
    },
  };
}

/** STATUS's verdict on iptables: code 50 unless it can list a built-in chain here. */
export function ensureIptablesUsable(executor: ToolExecutor): void {
  if (!toolProbes(executor).iptablesUsable()) {
    throw new CniError(ErrorCode.NotAvailable, "iptables is not usable here: `iptables -w -t filter -S INPUT 1` failed");
  }
}
