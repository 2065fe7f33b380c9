import { MULTICAST, parseInterfaceAddresses, type InterfaceAddress } from "../address.ts";
import { checkFailed } from "../check.ts";
import type { ToolExecutor } from "../exec.ts";
import { hashWithPrefix } from "../../core/index.ts";
import { readNftTable, type NftRule, type NftTable } from "../nftables/listing.ts";
import { applyNft, NftScript, type NftHook } from "../nftables/script.ts";
import type { MasqueradeAttachment, MasqueradeFeature, MasqueradeRequest } from "./types.ts";

/**
 * The reference's nftables layout: one table shared by every network and container,
 *
 *   table inet cni_plugins_masquerade
 *     chain postrouting (nat hook postrouting, priority srcnat = 100), rewritten on every setup:
 *       ip daddr == 224.0.0.0/4 return
 *       ip6 daddr == ff00::/8 return
 *       goto masq_checks
 *     chain masq_checks, one rule per container address:
 *       ip saddr == <ip> ip daddr != <subnet> masquerade comment "<instance hash>, net: ..., if: ..., id: ..."
 *
 * The comment starts with a hash of the network, "-", and a hash of ifname + container ID:
 * teardown deletes the rules whose comment starts with the instance hash, GC those of the
 * network whose comment belongs to no valid attachment. Unlike the iptables layout, this one
 * tells two attachments of a container apart by ifname.
 */
const FAMILY = "inet";
const TABLE = "cni_plugins_masquerade";
const MASQ_CHAIN = "masq_checks";
const POSTROUTING_CHAIN = "postrouting";
const TABLE_COMMENT = "Masquerading for plugins from github.com/containernetworking/plugins";
const MASQ_CHAIN_COMMENT = "Masquerade traffic from certain IPs to any (non-multicast) IP outside their subnet";
const POSTROUTING_HOOK: NftHook = { type: "nat", hook: "postrouting", priority: 100 };
const POSTROUTING_RULES = [`ip daddr == ${MULTICAST[4]} return`, `ip6 daddr == ${MULTICAST[6]} return`, `goto ${MASQ_CHAIN}`];
/** The kernel keeps at most 128 bytes of a rule's comment. */
const COMMENT_MAX_BYTES = 128;
const HASH_LENGTH = 16;

function networkHash(network: string): string {
  return hashWithPrefix(HASH_LENGTH, "", network);
}

function instanceHash(attachment: MasqueradeAttachment): string {
  return `${networkHash(attachment.network)}-${hashWithPrefix(HASH_LENGTH, "", `${attachment.ifname}:${attachment.containerId}`)}`;
}

/** The comment on an attachment's rules: its hash, then who it is, cut to what the kernel keeps. */
export function instanceComment(attachment: MasqueradeAttachment): string {
  const plain = (text: string) => text.replaceAll('"', "");
  const comment = `${instanceHash(attachment)}, net: ${plain(attachment.network)}, if: ${plain(attachment.ifname)}, id: ${plain(attachment.containerId)}`;
  return Buffer.from(comment).subarray(0, COMMENT_MAX_BYTES).toString();
}

function masqueradeRule(address: InterfaceAddress): string {
  const ip = address.family === 4 ? "ip" : "ip6";
  return `${ip} saddr == ${address.ip} ${ip} daddr != ${address.subnet} masquerade`;
}

/**
 * Ensures the table and both chains, rewrites postrouting, replaces the attachment's rules
 * (`stale`, as listed before) with one per address: one transaction.
 */
export function nftSetupScript(request: MasqueradeRequest, stale: readonly NftRule[]): NftScript {
  const script = new NftScript(FAMILY, TABLE)
    .addTable(TABLE_COMMENT)
    .addChain({ name: MASQ_CHAIN, comment: MASQ_CHAIN_COMMENT })
    .addChain({ name: POSTROUTING_CHAIN, hook: POSTROUTING_HOOK })
    .flushChain(POSTROUTING_CHAIN);
  for (const rule of POSTROUTING_RULES) script.addRule(POSTROUTING_CHAIN, rule);
  for (const rule of stale) script.deleteRule(MASQ_CHAIN, rule.handle);
  const comment = instanceComment(request);
  for (const address of parseInterfaceAddresses(request.addresses)) script.addRule(MASQ_CHAIN, masqueradeRule(address), comment);
  return script;
}

/** Deletes the given rules by handle; empty (nothing to run) when there are none. */
export function nftDeleteScript(rules: readonly NftRule[]): NftScript {
  const script = new NftScript(FAMILY, TABLE);
  for (const rule of rules) script.deleteRule(MASQ_CHAIN, rule.handle);
  return script;
}

export function nftablesMasquerade(executor: ToolExecutor): MasqueradeFeature {
  const readTable = () => readNftTable(executor, FAMILY, TABLE);

  return {
    setup(request) {
      applyNft(executor, nftSetupScript(request, attachmentRules(readTable(), request)));
    },

    teardown(attachment) {
      applyNft(executor, nftDeleteScript(attachmentRules(readTable(), attachment)));
    },

    check(request) {
      const missing = missingRules(readTable(), request);
      if (missing.length > 0) throw checkFailed(missing);
    },

    gc(network, validAttachments) {
      const valid = new Set(
        validAttachments.map((attachment) => instanceComment({ network, containerId: attachment.containerID, ifname: attachment.ifname })),
      );
      const rules = rulesWithCommentPrefix(readTable(), networkHash(network)).filter((rule) => !valid.has(rule.comment!));
      applyNft(executor, nftDeleteScript(rules));
    },
  };
}

function attachmentRules(table: NftTable | undefined, attachment: MasqueradeAttachment): NftRule[] {
  return rulesWithCommentPrefix(table, instanceHash(attachment));
}

function rulesWithCommentPrefix(table: NftTable | undefined, prefix: string): NftRule[] {
  return (table?.rules(MASQ_CHAIN) ?? []).filter((rule) => rule.comment?.startsWith(prefix));
}

function missingRules(table: NftTable | undefined, request: MasqueradeRequest): string[] {
  const where = (chain: string) => `chain ${FAMILY} ${TABLE} ${chain}`;
  if (!table) return [`table ${FAMILY} ${TABLE}`];
  const missing: string[] = [];
  const postrouting = table.chain(POSTROUTING_CHAIN);
  if (postrouting?.hook !== POSTROUTING_HOOK.hook || postrouting.type !== POSTROUTING_HOOK.type) {
    missing.push(`${where(POSTROUTING_CHAIN)} (type ${POSTROUTING_HOOK.type} hook ${POSTROUTING_HOOK.hook})`);
  } else {
    const present = table.rules(POSTROUTING_CHAIN).map((rule) => rule.text);
    for (const rule of POSTROUTING_RULES) if (!present.includes(rule)) missing.push(`rule "${rule}" in ${where(POSTROUTING_CHAIN)}`);
  }
  if (!table.chain(MASQ_CHAIN)) return [...missing, where(MASQ_CHAIN)];
  const comment = instanceComment(request);
  const ours = table.rules(MASQ_CHAIN).filter((rule) => rule.comment === comment);
  for (const address of parseInterfaceAddresses(request.addresses)) {
    const rule = masqueradeRule(address);
    if (!ours.some((present) => present.text === rule)) missing.push(`rule "${rule}" comment "${comment}" in ${where(MASQ_CHAIN)}`);
  }
  return missing;
}
