import type { RestoreScript } from "../iptables/restore.ts";
import type { RuleArgs } from "../iptables/rule.ts";
import type { IptablesTable } from "../iptables/save.ts";
import { isPresent, missingPieces, writeMissingChains, type PlacedRule } from "./filter-table.ts";
import type { BridgeIsolation, IsolationPolicy } from "./types.ts";

/**
 * The reference firewall plugin's bridge isolation (ingressPolicy "same-bridge" and
 * "isolated"), per IP family in table filter, shared by every bridge that asks for it:
 *
 *   -I FORWARD -m comment --comment <shared> -j CNI-ISOLATION-STAGE-1
 *   -I CNI-ISOLATION-STAGE-1 -i <br> ! -o <br> -m comment --comment <policy> -j CNI-ISOLATION-STAGE-2
 *   -I CNI-ISOLATION-STAGE-1 -i <br> -o <br> -m comment --comment <policy> -j DROP      (isolated only)
 *   -A CNI-ISOLATION-STAGE-1 -m comment --comment <shared> -j RETURN
 *   -I CNI-ISOLATION-STAGE-2 -o <br> -m comment --comment <shared> -j DROP
 *   -A CNI-ISOLATION-STAGE-2 -m comment --comment <shared> -j RETURN
 *
 * Traffic leaving a bridge for another interface goes to stage 2, which drops it if it is headed
 * into another isolated bridge: bridges cannot reach each other, the outside world stays
 * reachable. Each rule is added only if missing ("-I" puts it first, so the FORWARD jump comes
 * before the jump to CNI-FORWARD). Nothing is ever removed: the reference cannot tell when a
 * bridge has no containers left, and neither can a plugin run for one container.
 *
 * <policy> is "CNI firewall plugin rules (ingressPolicy: same-bridge)" (or "isolated") and
 * <shared> "... (ingressPolicy: same-bridge|isolated)", as the reference writes them since
 * v1.7.0. Up to v1.6 (Debian's 1.1.1 among them) every rule carried the same-bridge comment;
 * rules spelled that way count as present, so ours and theirs do not add each other's twice.
 */
export const ISOLATION_STAGE_1 = "CNI-ISOLATION-STAGE-1";
export const ISOLATION_STAGE_2 = "CNI-ISOLATION-STAGE-2";

const policyComment = (policy: IsolationPolicy) => `CNI firewall plugin rules (ingressPolicy: ${policy})`;
const SHARED_COMMENT = "CNI firewall plugin rules (ingressPolicy: same-bridge|isolated)";
const BEFORE_V1_7_COMMENT = policyComment("same-bridge");

export interface IsolationRule extends PlacedRule {
  /** Where a missing rule goes: first in its chain ("-I") or last ("-A"). */
  position: "first" | "last";
}

function withComment(matches: readonly string[], comment: string, target: string): RuleArgs {
  return [...matches, "-m", "comment", "--comment", comment, "-j", target];
}

/** The isolation rules of one bridge, in the order the reference adds them. */
export function isolationRules({ bridge, policy }: BridgeIsolation): IsolationRule[] {
  const shared = (chain: string, position: IsolationRule["position"], matches: string[], target: string): IsolationRule => ({
    chain,
    position,
    args: withComment(matches, SHARED_COMMENT, target),
    alsoKnownAs: [withComment(matches, BEFORE_V1_7_COMMENT, target)],
  });
  const own = (matches: string[], target: string): IsolationRule => ({
    chain: ISOLATION_STAGE_1,
    position: "first",
    args: withComment(matches, policyComment(policy), target),
  });
  return [
    shared("FORWARD", "first", [], ISOLATION_STAGE_1),
    own(["-i", bridge, "!", "-o", bridge], ISOLATION_STAGE_2),
    ...(policy === "isolated" ? [own(["-i", bridge, "-o", bridge], "DROP")] : []),
    shared(ISOLATION_STAGE_1, "last", [], "RETURN"),
    shared(ISOLATION_STAGE_2, "first", ["-o", bridge], "DROP"),
    shared(ISOLATION_STAGE_2, "last", [], "RETURN"),
  ];
}

/** Adds the stage chains and the bridge's rules that are missing. */
export function writeIsolationSetup(script: RestoreScript, current: IptablesTable, isolation: BridgeIsolation): void {
  writeMissingChains(script, current, [ISOLATION_STAGE_1, ISOLATION_STAGE_2]);
  for (const rule of isolationRules(isolation)) {
    if (isPresent(current, rule)) continue;
    if (rule.position === "first") script.insertFirst(rule.chain, rule.args);
    else script.append(rule.chain, rule.args);
  }
}

export function missingIsolation(current: IptablesTable, isolation: BridgeIsolation): string[] {
  return missingPieces(current, [ISOLATION_STAGE_1, ISOLATION_STAGE_2], isolationRules(isolation));
}
