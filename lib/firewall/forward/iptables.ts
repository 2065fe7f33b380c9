import { CniError, ErrorCode } from "../../core/index.ts";
import type { IPFamily } from "../../ip/index.ts";
import type { GcAttachment } from "../../types/index.ts";
import { groupByFamily, type InterfaceAddress } from "../address.ts";
import { toolProbes } from "../backend.ts";
import { checkFailed } from "../check.ts";
import type { ToolExecutor } from "../exec.ts";
import { IP_FAMILIES, IPTABLES_TOOLS } from "../iptables/family.ts";
import { RestoreScript } from "../iptables/restore.ts";
import { optionValue, ruleTarget, sameArgs, type RuleArgs } from "../iptables/rule.ts";
import { iptablesChainsState, readingsOf, type IptablesTable } from "../iptables/save.ts";
import { commitToFilterTable, FILTER, isPresent, missingPieces, readFilterTable, uniqueRules, writeMissingChains, type PlacedRule } from "./filter-table.ts";
import { missingIsolation, writeIsolationSetup } from "./isolation.ts";
import { attachmentTag, isTag, isTagOf, staleTagPredicate } from "./tag.ts";
import type { BridgeIsolation, ForwardAccessFeature, ForwardAttachment } from "./types.ts";

/**
 * The reference firewall plugin's iptables layout, per IP family in table filter, plus one
 * marker rule per container address:
 *
 *   :CNI-FORWARD, :CNI-ADMIN                         shared by every container; never removed
 *   -I FORWARD -m comment --comment "CNI firewall plugin rules" -j CNI-FORWARD
 *   -I CNI-FORWARD -m comment --comment "CNI firewall plugin admin overrides" -j CNI-ADMIN
 *   -A CNI-FORWARD -d <ip>/<32|128> -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
 *   -A CNI-FORWARD -s <ip>/<32|128> -j ACCEPT
 *   -A CNI-FORWARD -s <ip>/<32|128> -m comment --comment <tag>           marker: no target, no effect
 *
 * The two ACCEPT rules exist once per container address: replies to the container's
 * connections and everything it sends are accepted, whatever the FORWARD policy. CNI-ADMIN (the
 * name is configurable) is the administrator's: its rules run first and are never touched.
 *
 * The ACCEPT rules are the reference's, byte for byte and without a comment, so that either
 * plugin checks and deletes what the other added (by address, from prevResult). The marker is
 * ours: its comment is the attachment's tag (tag.ts), so a DEL without prevResult (a runtime
 * that died before caching the result) and GC find the attachment's addresses, and through them
 * its ACCEPT rules. It has no target, so it changes no packet's fate.
 */
export const FORWARD_CHAIN = "CNI-FORWARD";
export const DEFAULT_ADMIN_CHAIN = "CNI-ADMIN";

export function forwardJump(): PlacedRule {
  return { chain: "FORWARD", args: ["-m", "comment", "--comment", "CNI firewall plugin rules", "-j", FORWARD_CHAIN] };
}

export function adminJump(adminChain: string): PlacedRule {
  return { chain: FORWARD_CHAIN, args: ["-m", "comment", "--comment", "CNI firewall plugin admin overrides", "-j", adminChain] };
}

/** The reference's two rules of a container address ("10.1.2.3/32"), in the order it appends them. */
function acceptRules(host: string): RuleArgs[] {
  return [
    ["-d", host, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"],
    ["-s", host, "-j", "ACCEPT"],
  ];
}

function markerArgs(host: string, tag: string): RuleArgs {
  return ["-s", host, "-m", "comment", "--comment", tag];
}

/** The reference's two rules of each container address. */
export function addressRules(addresses: readonly InterfaceAddress[]): PlacedRule[] {
  return uniqueRules(addresses.flatMap((address) => acceptRules(address.host)).map((args) => ({ chain: FORWARD_CHAIN, args })));
}

/** The attachment's marker for each of its addresses. */
export function markerRules(addresses: readonly InterfaceAddress[], attachment: ForwardAttachment): PlacedRule[] {
  const tag = attachmentTag(attachment);
  return uniqueRules(addresses.map((address) => ({ chain: FORWARD_CHAIN, args: markerArgs(address.host, tag) })));
}

/** A marker found in the table: the address it names and the attachment's tag. */
interface Marker {
  host: string;
  comment: string;
  args: RuleArgs;
}

/** Every marker in CNI-FORWARD: a rule with a tag comment, a source and no target. */
function markersIn(current: IptablesTable): Marker[] {
  return current.rules(FORWARD_CHAIN).flatMap((rule) => {
    const comment = optionValue(rule.args, "--comment");
    const host = optionValue(rule.args, "-s");
    if (comment === undefined || host === undefined || ruleTarget(rule.args) !== undefined || !isTag(comment)) return [];
    return [{ host, comment, args: rule.args }];
  });
}

/** Adds what is missing of the shared chains and jumps (each first in its chain), the address rules and the attachment's markers. */
export function writeForwardSetup(
  script: RestoreScript,
  current: IptablesTable,
  addresses: readonly InterfaceAddress[],
  attachment: ForwardAttachment,
  adminChain: string,
): void {
  writeMissingChains(script, current, [FORWARD_CHAIN, adminChain]);
  for (const jump of [forwardJump(), adminJump(adminChain)]) {
    if (!isPresent(current, jump)) script.insertFirst(jump.chain, jump.args);
  }
  for (const rule of [...addressRules(addresses), ...markerRules(addresses, attachment)]) {
    if (!isPresent(current, rule)) script.append(rule.chain, rule.args);
  }
}

/**
 * Deletes `released` markers and every copy of the ACCEPT rules of the addresses they and
 * `addresses` name, except those of an address that a marker of another attachment still
 * claims (two attachments can hold one address, and then share the reference's rules).
 */
function writeRelease(script: RestoreScript, current: IptablesTable, addresses: readonly string[], released: (marker: Marker) => boolean): void {
  const markers = markersIn(current);
  const releasing = markers.filter(released);
  const claimed = new Set(markers.filter((marker) => !released(marker)).map((marker) => marker.host));
  const hosts = new Set([...addresses, ...releasing.map((marker) => marker.host)]);
  const rules = [...hosts].filter((host) => !claimed.has(host)).flatMap(acceptRules);
  for (const rule of current.rules(FORWARD_CHAIN)) {
    if (rules.some((args) => sameArgs(args, rule.args))) script.delete(rule.chain, rule.args);
  }
  for (const marker of releasing) script.delete(FORWARD_CHAIN, marker.args);
}

/**
 * Removes the attachment: its markers, and the ACCEPT rules of its addresses, from prevResult
 * (`addresses`, possibly none) and from its markers. The shared chains and jumps stay, as with
 * the reference.
 */
export function writeForwardTeardown(script: RestoreScript, current: IptablesTable, addresses: readonly InterfaceAddress[], attachment: ForwardAttachment): void {
  writeRelease(script, current, addresses.map((address) => address.host), (marker) => isTagOf(marker.comment, attachment));
}

/** GC: removes the network's attachments that are not valid, found by their markers. */
export function writeForwardGc(script: RestoreScript, current: IptablesTable, network: string, validAttachments: readonly GcAttachment[]): void {
  const stale = staleTagPredicate(network, validAttachments);
  writeRelease(script, current, [], (marker) => stale(marker.comment));
}

/** What CHECK misses; the markers are not asked for, so that the reference's layout passes. */
export function missingForward(current: IptablesTable, addresses: readonly InterfaceAddress[], adminChain: string): string[] {
  return missingPieces(current, [FORWARD_CHAIN, adminChain], [forwardJump(), adminJump(adminChain), ...addressRules(addresses)]);
}

/** One family's setup as one restore script: the address rules, then the bridge's isolation if asked for. */
export function forwardSetupScript(
  current: IptablesTable,
  addresses: readonly InterfaceAddress[],
  attachment: ForwardAttachment,
  adminChain: string,
  isolation: BridgeIsolation | undefined,
): RestoreScript {
  const script = new RestoreScript(FILTER);
  writeForwardSetup(script, current, addresses, attachment, adminChain);
  if (isolation) writeIsolationSetup(script, current, isolation);
  return script;
}

export function forwardTeardownScript(current: IptablesTable, addresses: readonly InterfaceAddress[], attachment: ForwardAttachment): RestoreScript {
  const script = new RestoreScript(FILTER);
  writeForwardTeardown(script, current, addresses, attachment);
  return script;
}

export function forwardGcScript(current: IptablesTable, network: string, validAttachments: readonly GcAttachment[]): RestoreScript {
  const script = new RestoreScript(FILTER);
  writeForwardGc(script, current, network, validAttachments);
  return script;
}

export function iptablesForwardAccess(executor: ToolExecutor, adminChain: string): ForwardAccessFeature {
  return {
    backend: "iptables",

    setup({ attachment, addresses, isolation }) {
      for (const [family, ofFamily] of groupByFamily(addresses)) {
        commitToFilterTable(executor, family, (current) => forwardSetupScript(current, ofFamily, attachment, adminChain, isolation));
      }
    },

    // Both families, addresses or not: the tag finds the rules of a family prevResult did not name.
    teardown(attachment, addresses) {
      const byFamily = groupByFamily(addresses);
      for (const family of IP_FAMILIES) {
        if (iptablesChainsState(executor, IPTABLES_TOOLS[family], FILTER, [FORWARD_CHAIN]) === "absent") continue;
        const ofFamily = byFamily.get(family) ?? [];
        const plan = (current: IptablesTable) => forwardTeardownScript(current, ofFamily, attachment);
        if (ofFamily.length > 0) {
          commitToFilterTable(executor, family, plan);
          continue;
        }
        const read = readingsOf(() => readFilterTable(executor, family));
        if (read) commitToFilterTable(executor, family, plan, read);
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

    gc(network, validAttachments) {
      for (const family of IP_FAMILIES) {
        const read = readingsOf(() => readFilterTable(executor, family));
        if (read) commitToFilterTable(executor, family, (current) => forwardGcScript(current, network, validAttachments), read);
      }
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
