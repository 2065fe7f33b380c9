import type { IPFamily } from "../../ip/index.ts";
import type { InterfaceAddress } from "../address.ts";
import { checkFailed } from "../check.ts";
import type { ToolExecutor } from "../exec.ts";
import { IP_FAMILIES } from "../iptables/family.ts";
import { readNftTable, type NftRule, type NftTable } from "../nftables/listing.ts";
import { applyNft, NftScript, type NftHook } from "../nftables/script.ts";
import { commitFromFreshState } from "../commit.ts";
import { addressesByFamily, conditionsOf, joinHostPort, mappingsOfFamily } from "./plan.ts";
import type { PortMapAttachment, PortMapFeature, PortMapRequest } from "./types.ts";

/**
 * The reference's nftables layout: one table per IP family, `ip cni_hostport` and
 * `ip6 cni_hostport`, shared by every network and container:
 *
 *   chain prerouting (nat hook prerouting, priority dstnat = -100), rewritten on every setup:
 *     <conditions> fib daddr type local jump hostports_all
 *   chain output (nat hook output, priority dstnat), the same rule
 *   chain hostports_all: jump hostip_hostports; jump hostports
 *   chain hostip_hostports: empty (older versions' rules with a hostIP; still searched on teardown)
 *   chain hostports, one rule per mapping:
 *     [ip daddr <hostIP>] tcp dport 8080 dnat to 10.1.2.3:80 comment "<containerId>"
 *   chain masquerading (nat hook postrouting, priority srcnat = 100), with snat:
 *     ip saddr 10.1.2.3 ip daddr 10.1.2.3 masquerade comment "<containerId>"     hairpin
 *     ip saddr 127.0.0.1 ip daddr 10.1.2.3 masquerade comment "<containerId>"    IPv4 localhost
 *
 * masqAll matches every source (0.0.0.0/0, ::/0) and drops the localhost rule. The comment is
 * the container ID alone: teardown removes the container's rules of every network, and GC
 * cannot tell which network a rule belongs to (see gc). Rules are written in the spelling
 * describeRule reads them back in ("tcp dport == 8080"), which nft takes as the same rule.
 */
const TABLE = "cni_hostport";
const TABLE_COMMENT = "CNI portmap plugin";
const HOSTPORTS_CHAIN = "hostports";
const HOSTIP_HOSTPORTS_CHAIN = "hostip_hostports";
const HOSTPORTS_ALL_CHAIN = "hostports_all";
const MASQUERADING_CHAIN = "masquerading";
const DNAT_HOOKS: NftHook[] = [
  { type: "nat", hook: "prerouting", priority: -100 },
  { type: "nat", hook: "output", priority: -100 },
];
const MASQUERADING_HOOK: NftHook = { type: "nat", hook: "postrouting", priority: 100 };
const TO_HOSTPORTS = "fib daddr type == local jump hostports_all";
const HOSTPORTS_ALL_RULES = [`jump ${HOSTIP_HOSTPORTS_CHAIN}`, `jump ${HOSTPORTS_CHAIN}`];
/** Chains holding per-container rules, searched by teardown. */
const CONTAINER_CHAINS = [HOSTPORTS_CHAIN, HOSTIP_HOSTPORTS_CHAIN, MASQUERADING_CHAIN];
const ANY_SOURCE: Record<IPFamily, string> = { 4: "0.0.0.0/0", 6: "::/0" };

function nftFamily(family: IPFamily): "ip" | "ip6" {
  return family === 4 ? "ip" : "ip6";
}

/** The container's DNAT rules in chain hostports, one per mapping of the address's family. */
export function hostportRules(request: PortMapRequest, address: InterfaceAddress): string[] {
  const ip = nftFamily(address.family);
  return mappingsOfFamily(request.mappings, address.family).map((mapping) => {
    const destination = mapping.destination === undefined ? "" : `${ip} daddr == ${mapping.destination} `;
    return `${destination}${mapping.protocol} dport == ${mapping.hostPort} dnat to ${joinHostPort(address.ip, mapping.containerPort)}`;
  });
}

/** The container's rules in chain masquerading; none without snat. */
export function masqueradingRules(request: PortMapRequest, address: InterfaceAddress): string[] {
  const { snat, masqAll } = request.settings;
  if (!snat) return [];
  const ip = nftFamily(address.family);
  const toContainer = (source: string) => `${ip} saddr == ${source} ${ip} daddr == ${address.ip} masquerade`;
  if (masqAll) return [toContainer(ANY_SOURCE[address.family])];
  return address.family === 4 ? [toContainer(address.ip), toContainer("127.0.0.1")] : [toContainer(address.ip)];
}

/** The rule prerouting and output jump through; conditions in front, as the reference puts them. */
function entryRule(conditions: readonly string[]): string {
  return [...conditions, TO_HOSTPORTS].join(" ");
}

/**
 * One transaction for one family: the table and chains as the reference makes them (the entry
 * chains rewritten with this configuration's conditions), and the container's rules that are
 * not there yet. Rules already there are kept, so a repeated ADD adds nothing; rules of the
 * same container on another network are left alone.
 */
export function nftPortmapSetupScript(request: PortMapRequest, address: InterfaceAddress, current: NftTable | undefined): NftScript {
  const script = new NftScript(nftFamily(address.family), TABLE)
    .addTable(TABLE_COMMENT)
    .addChain({ name: HOSTPORTS_CHAIN })
    .addChain({ name: HOSTIP_HOSTPORTS_CHAIN })
    .addChain({ name: HOSTPORTS_ALL_CHAIN })
    .flushChain(HOSTPORTS_ALL_CHAIN);
  for (const rule of HOSTPORTS_ALL_RULES) script.addRule(HOSTPORTS_ALL_CHAIN, rule);
  const entry = entryRule(conditionsOf(request.settings, address.family));
  for (const hook of DNAT_HOOKS) script.addChain({ name: hook.hook, hook }).flushChain(hook.hook).addRule(hook.hook, entry);
  if (request.settings.snat) script.addChain({ name: MASQUERADING_CHAIN, hook: MASQUERADING_HOOK });
  const add = (chain: string, rules: string[]) => {
    for (const rule of rules) if (!hasRule(current, chain, rule, request.containerId)) script.addRule(chain, rule, request.containerId);
  };
  add(HOSTPORTS_CHAIN, hostportRules(request, address));
  add(MASQUERADING_CHAIN, masqueradingRules(request, address));
  return script;
}

/** Deletes, by handle, every rule carrying the container's comment; empty when there is none. */
export function nftPortmapTeardownScript(family: IPFamily, rules: readonly NftRule[]): NftScript {
  const script = new NftScript(nftFamily(family), TABLE);
  for (const rule of rules) script.deleteRule(rule.chain, rule.handle);
  return script;
}

export function containerRules(table: NftTable | undefined, containerId: string): NftRule[] {
  return CONTAINER_CHAINS.flatMap((chain) => table?.rules(chain) ?? []).filter((rule) => rule.comment === containerId);
}

/** What of the container's rules and the chains leading to them is not in the table. */
export function missingNftRules(table: NftTable | undefined, request: PortMapRequest, address: InterfaceAddress): string[] {
  const family = nftFamily(address.family);
  const where = (chain: string) => `chain ${family} ${TABLE} ${chain}`;
  if (!table) return [`table ${family} ${TABLE}`];
  const missing: string[] = [];
  for (const hook of DNAT_HOOKS) {
    const chain = table.chain(hook.hook);
    if (chain?.hook !== hook.hook || chain.type !== hook.type) missing.push(`${where(hook.hook)} (type ${hook.type} hook ${hook.hook})`);
    else if (!table.rules(hook.hook).some((rule) => rule.text.endsWith(TO_HOSTPORTS))) missing.push(`rule "${TO_HOSTPORTS}" in ${where(hook.hook)}`);
  }
  for (const rule of HOSTPORTS_ALL_RULES) {
    if (!hasRule(table, HOSTPORTS_ALL_CHAIN, rule, undefined)) missing.push(`rule "${rule}" in ${where(HOSTPORTS_ALL_CHAIN)}`);
  }
  const expected: [string, string[]][] = [
    [HOSTPORTS_CHAIN, hostportRules(request, address)],
    [MASQUERADING_CHAIN, masqueradingRules(request, address)],
  ];
  for (const [chain, rules] of expected) {
    for (const rule of rules) {
      if (!hasRule(table, chain, rule, request.containerId)) missing.push(`rule "${rule}" comment "${request.containerId}" in ${where(chain)}`);
    }
  }
  if (request.settings.snat && table.chain(MASQUERADING_CHAIN)?.hook !== MASQUERADING_HOOK.hook) {
    missing.push(`${where(MASQUERADING_CHAIN)} (type nat hook postrouting)`);
  }
  return missing;
}

function hasRule(table: NftTable | undefined, chain: string, text: string, comment: string | undefined): boolean {
  return (table?.rules(chain) ?? []).some((rule) => rule.text === text && rule.comment === comment);
}

export function nftablesPortMap(executor: ToolExecutor): PortMapFeature {
  const readTable = (family: IPFamily) => readNftTable(executor, nftFamily(family), TABLE);
  const commit = (plan: () => NftScript) => commitFromFreshState(plan, (script) => applyNft(executor, script));

  return {
    setup(request) {
      for (const [family, address] of addressesByFamily(request)) {
        commit(() => nftPortmapSetupScript(request, address, readTable(family)));
      }
    },

    check(request) {
      const missing = [...addressesByFamily(request)].flatMap(([family, address]) => missingNftRules(readTable(family), request, address));
      if (missing.length > 0) throw checkFailed(missing);
    },

    teardown(attachment: PortMapAttachment) {
      for (const family of IP_FAMILIES) {
        commit(() => nftPortmapTeardownScript(family, containerRules(readTable(family), attachment.containerId)));
      }
    },

    // The rules carry the container ID alone, not the network: a rule of a container that is
    // not valid on this network may well belong to the same container on another network, so
    // GC cannot remove anything safely and leaves the table as it is.
    gc() {},
  };
}
