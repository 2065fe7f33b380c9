import { invalidEnvironment } from "../../core/index.ts";
import { checkFailed } from "../check.ts";
import type { ToolExecutor } from "../exec.ts";
import { readNftTable, type NftRule, type NftTable } from "../nftables/listing.ts";
import { applyNft, NftScript, type NftHook } from "../nftables/script.ts";
import type { MacSpoofCheckAttachment, MacSpoofCheckFeature, MacSpoofCheckRequest } from "./types.ts";

/**
 * The reference bridge's layout for `macspoofchk`, kept name for name so that either
 * implementation checks and removes what the other made:
 *
 *   table bridge nat
 *     chain PREROUTING (type filter hook prerouting priority -300, policy accept), shared:
 *       meta iifname == "<host veth>" jump cni-br-iface-<id> comment "macspoofchk-<id>"
 *     chain cni-br-iface-<id>:
 *       jump cni-br-iface-<id>-mac comment "macspoofchk-<id>"
 *     chain cni-br-iface-<id>-mac:
 *       ether saddr == <container MAC> return comment "macspoofchk-<id>"
 *       drop comment "macspoofchk-<id>"
 *
 * with <id> = "<containerId>-<ifname>". Frames the container sends enter the bridge through the
 * host end of its veth pair; any whose source MAC is not the container's is dropped there, before
 * the bridge learns or forwards it. The table and PREROUTING stay when an attachment goes; its two
 * chains and its PREROUTING rule (found by comment, as the reference finds it) are removed.
 */
const FAMILY = "bridge";
const TABLE = "nat";
const PREROUTING = "PREROUTING";
const PREROUTING_HOOK: NftHook = { type: "filter", hook: "prerouting", priority: -300 };

/** nft (1.0.x) takes chain names only unquoted, so they are limited to what its scanner reads as a name. */
const NFT_NAME_CHARACTERS = /^[A-Za-z0-9_./-]+$/;

export interface SpoofCheckChains {
  iface: string;
  mac: string;
}

/** One rule of the layout: how it is written, and how `nft -j list` reads back (see describeRule). */
export interface SpoofCheckRule {
  chain: string;
  text: string;
  readBack: string;
}

function referenceId(attachment: MacSpoofCheckAttachment): string {
  const id = `${attachment.containerId}-${attachment.ifname}`;
  if (!NFT_NAME_CHARACTERS.test(id)) {
    throw invalidEnvironment(
      "CNI_IFNAME",
      `macspoofchk names nftables chains after the container ID and interface name, and nft cannot take "${attachment.ifname}" in a chain name (use letters, digits, "_", ".", "-", "/")`,
    );
  }
  return id;
}

export function spoofCheckChains(attachment: MacSpoofCheckAttachment): SpoofCheckChains {
  const iface = `cni-br-iface-${referenceId(attachment)}`;
  return { iface, mac: `${iface}-mac` };
}

export function spoofCheckComment(attachment: MacSpoofCheckAttachment): string {
  return `macspoofchk-${referenceId(attachment)}`;
}

/** The attachment's four rules in the order setup adds them. */
export function spoofCheckRules(request: MacSpoofCheckRequest): SpoofCheckRule[] {
  const chains = spoofCheckChains(request);
  const mac = request.containerMac.toLowerCase();
  const plain = (chain: string, rule: string): SpoofCheckRule => ({ chain, text: rule, readBack: rule });
  return [
    {
      chain: PREROUTING,
      text: `meta iifname == "${request.hostInterface}" jump ${chains.iface}`,
      readBack: `meta iifname == ${request.hostInterface} jump ${chains.iface}`,
    },
    plain(chains.iface, `jump ${chains.mac}`),
    plain(chains.mac, `ether saddr == ${mac} return`),
    plain(chains.mac, "drop"),
  ];
}

/**
 * Ensures the table and the three chains, empties the attachment's two chains, replaces its
 * PREROUTING rules (`stale`, as listed before) and adds the four rules: one transaction, so
 * frames are never checked against half a rule set.
 */
export function spoofCheckSetupScript(request: MacSpoofCheckRequest, stale: readonly NftRule[]): NftScript {
  const chains = spoofCheckChains(request);
  const script = new NftScript(FAMILY, TABLE)
    .addTable()
    .addChain({ name: PREROUTING, hook: PREROUTING_HOOK })
    .addChain({ name: chains.iface })
    .addChain({ name: chains.mac })
    .flushChain(chains.iface)
    .flushChain(chains.mac);
  for (const rule of stale) script.deleteRule(PREROUTING, rule.handle);
  const comment = spoofCheckComment(request);
  for (const rule of spoofCheckRules(request)) script.addRule(rule.chain, rule.text, comment);
  return script;
}

/**
 * Deletes the attachment's PREROUTING rules, then its two chains, as far as the listing shows
 * them: empty (nothing to run) when the attachment has nothing left.
 */
export function spoofCheckTeardownScript(table: NftTable | undefined, attachment: MacSpoofCheckAttachment): NftScript {
  const script = new NftScript(FAMILY, TABLE);
  if (!table) return script;
  for (const rule of preroutingRules(table, attachment)) script.deleteRule(PREROUTING, rule.handle);
  const chains = spoofCheckChains(attachment);
  for (const chain of [chains.iface, chains.mac]) {
    if (table.chain(chain)) script.flushChain(chain).deleteChain(chain);
  }
  return script;
}

/** What of the attachment's layout is not in the table, each named; empty when complete. */
export function missingSpoofCheck(table: NftTable | undefined, request: MacSpoofCheckRequest): string[] {
  const where = (chain: string) => `chain ${FAMILY} ${TABLE} ${chain}`;
  if (!table) return [`table ${FAMILY} ${TABLE}`];
  const prerouting = table.chain(PREROUTING);
  if (prerouting?.hook !== PREROUTING_HOOK.hook || prerouting.type !== PREROUTING_HOOK.type) {
    return [`${where(PREROUTING)} (type ${PREROUTING_HOOK.type} hook ${PREROUTING_HOOK.hook})`];
  }
  const comment = spoofCheckComment(request);
  const missing: string[] = [];
  for (const rule of spoofCheckRules(request)) {
    if (!table.chain(rule.chain)) {
      if (!missing.includes(where(rule.chain))) missing.push(where(rule.chain));
      continue;
    }
    const present = table.rules(rule.chain).some((candidate) => candidate.comment === comment && candidate.text === rule.readBack);
    if (!present) missing.push(`rule "${rule.readBack}" comment "${comment}" in ${where(rule.chain)}`);
  }
  return missing;
}

function preroutingRules(table: NftTable | undefined, attachment: MacSpoofCheckAttachment): NftRule[] {
  const comment = spoofCheckComment(attachment);
  return (table?.rules(PREROUTING) ?? []).filter((rule) => rule.comment === comment);
}

/** The spoof check on the executor's host; nftables only, whatever backend masquerading uses (as the reference). */
export function nftablesSpoofCheck(executor: ToolExecutor): MacSpoofCheckFeature {
  const readTable = () => readNftTable(executor, FAMILY, TABLE);
  return {
    setup(request) {
      applyNft(executor, spoofCheckSetupScript(request, preroutingRules(readTable(), request)));
    },
    teardown(attachment) {
      applyNft(executor, spoofCheckTeardownScript(readTable(), attachment));
    },
    check(request) {
      const missing = missingSpoofCheck(readTable(), request);
      if (missing.length > 0) throw checkFailed(missing);
    },
  };
}
