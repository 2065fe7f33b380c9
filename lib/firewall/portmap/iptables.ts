import type { IPFamily } from "../../ip/index.ts";
import type { InterfaceAddress } from "../address.ts";
import { checkFailed } from "../check.ts";
import type { ToolExecutor } from "../exec.ts";
import { missingFromTable, writeChainSetup, writeChainTeardown, type ChainEntry, type ContainerChain } from "../iptables/chain.ts";
import { IP_FAMILIES, IPTABLES_TOOLS } from "../iptables/family.ts";
import { applyRestore, RestoreScript } from "../iptables/restore.ts";
import { formatArgs, optionValue, ruleTarget, sameArgs, type RuleArgs } from "../iptables/rule.ts";
import { iptablesChainsState, readIptablesTable, readingsOf, type IptablesTable } from "../iptables/save.ts";
import { formatChainName } from "../names.ts";
import { commitFromFreshState } from "../commit.ts";
import { addressesByFamily, conditionsOf, joinHostPort, mappingsOfFamily } from "./plan.ts";
import type { PortMapAttachment, PortMapFeature, PortMapRequest, PortMapSettings } from "./types.ts";

/**
 * The reference's iptables layout, per IP family, in table nat (names never change: hosts
 * upgrade from the reference and back):
 *
 *   -A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT       shared, never removed
 *   -A OUTPUT     -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
 *   -A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"<net>\" id: \"<id>\""
 *        -m multiport --dports 8080,8081 <conditions> -j CNI-DN-<hash>    per protocol, 15 ports a rule
 *   -A CNI-DN-<hash> -s <subnet> -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK     hairpin
 *   -A CNI-DN-<hash> -s 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j CNI-HOSTPORT-SETMARK IPv4 localhost
 *   -A CNI-DN-<hash> -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.1.2.3:80
 *   -A CNI-HOSTPORT-SETMARK -m comment --comment "CNI portfwd masquerade mark" -j MARK --set-xmark 0x2000/0x2000
 *   -A CNI-HOSTPORT-MASQ -m mark --mark 0x2000/0x2000 -j MASQUERADE
 *   -I POSTROUTING 1 -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ
 *
 * CNI-DN-<hash> is formatChainName(network, containerId, "DN-"). Rules are written as
 * iptables-save prints them, so what the reference wrote and what we write compare equal.
 */
const HOSTPORT_DNAT_CHAIN = "CNI-HOSTPORT-DNAT";
const HOSTPORT_SETMARK_CHAIN = "CNI-HOSTPORT-SETMARK";
const HOSTPORT_MASQ_CHAIN = "CNI-HOSTPORT-MASQ";

export const PORTMAP_TABLE = "nat";
/** multiport takes at most 15 ports. */
const MULTIPORT_MAX_PORTS = 15;
/** The kernel keeps at most 255 bytes of a comment. */
const COMMENT_MAX_BYTES = 255;

/** A rule in a chain every container uses; `first` rules go ahead of other tools' rules. */
export interface SharedRule {
  chain: string;
  args: RuleArgs;
  first?: boolean;
}

/** The chains every container's mappings use, and their rules: made when missing, never removed. */
export interface SharedChains {
  chains: string[];
  rules: SharedRule[];
}

export function dnatChainName(attachment: PortMapAttachment): string {
  return formatChainName(attachment.network, attachment.containerId, "DN-");
}

/** The chain versions before 0.7 made; DEL still removes it, as the reference does. */
function oldSnatChainName(attachment: PortMapAttachment): string {
  return formatChainName(attachment.network, attachment.containerId, "SN-");
}

/** The comment on a container's entry rules; unlike masquerading's, the names are not quoted Go-style. */
function dnatComment(attachment: PortMapAttachment): string {
  const comment = `dnat name: "${attachment.network}" id: "${attachment.containerId}"`;
  return comment.length <= COMMENT_MAX_BYTES ? comment : `${comment.slice(0, COMMENT_MAX_BYTES - 2)}...`;
}

/** The owner named by a dnatComment, unless it was cut short. */
function parseDnatComment(comment: string): PortMapAttachment | undefined {
  const match = /^dnat name: "([^"]*)" id: "([^"]*)"$/.exec(comment);
  return match ? { network: match[1]!, containerId: match[2]! } : undefined;
}

/** "0x2000/0x2000" for bit 13, as Go's %#x prints it. */
export function markDefinition(bit: number): string {
  const value = `0x${(2 ** bit).toString(16)}`;
  return `${value}/${value}`;
}

export function sharedChains(settings: PortMapSettings): SharedChains {
  const toDnat = ["-m", "addrtype", "--dst-type", "LOCAL", "-j", HOSTPORT_DNAT_CHAIN];
  const dnat: SharedRule[] = [
    { chain: "PREROUTING", args: toDnat },
    { chain: "OUTPUT", args: toDnat },
  ];
  if (!settings.snat || settings.externalSetMarkChain !== undefined) return { chains: [HOSTPORT_DNAT_CHAIN], rules: dnat };
  const mark = markDefinition(settings.markMasqBit);
  return {
    chains: [HOSTPORT_SETMARK_CHAIN, HOSTPORT_MASQ_CHAIN, HOSTPORT_DNAT_CHAIN],
    rules: [
      {
        chain: HOSTPORT_SETMARK_CHAIN,
        args: ["-m", "comment", "--comment", "CNI portfwd masquerade mark", "-j", "MARK", "--set-xmark", mark],
      },
      { chain: HOSTPORT_MASQ_CHAIN, args: ["-m", "mark", "--mark", mark, "-j", "MASQUERADE"] },
      // First: the masquerade rules bridge and ptp append to POSTROUTING must not pre-empt it.
      {
        chain: "POSTROUTING",
        args: ["-m", "comment", "--comment", "CNI portfwd requiring masquerade", "-j", HOSTPORT_MASQ_CHAIN],
        first: true,
      },
      ...dnat,
    ],
  };
}

/**
 * The container's chain for one family: per mapping, the rules that mark hairpin and localhost
 * traffic for masquerading, then the DNAT rule; and the entry rules from CNI-HOSTPORT-DNAT,
 * one per protocol and 15 host ports. As in the reference, the entry rules list every mapping's
 * host port, those of the other family's hostIPs included, and identical rules appear once.
 */
export function portmapChain(request: PortMapRequest, address: InterfaceAddress): ContainerChain {
  const { settings } = request;
  const name = dnatChainName(request);
  const setMark = settings.externalSetMarkChain ?? HOSTPORT_SETMARK_CHAIN;
  const hostRoute = address.family === 4 ? 32 : 128;
  const rules = mappingsOfFamily(request.mappings, address.family).flatMap((mapping) => {
    const destination = mapping.destination === undefined ? [] : ["-d", `${mapping.destination}/${hostRoute}`];
    const match = [...destination, "-p", mapping.protocol, "-m", mapping.protocol, "--dport", String(mapping.hostPort)];
    const marks: RuleArgs[] = [];
    if (settings.snat) {
      // masqAll matches every source: iptables-save omits "-s 0.0.0.0/0", so we do too.
      marks.push([...(settings.masqAll ? [] : ["-s", address.subnet]), ...match, "-j", setMark]);
      if (address.family === 4 && !settings.masqAll) marks.push(["-s", "127.0.0.1/32", ...match, "-j", setMark]);
    }
    return [...marks, [...match, "-j", "DNAT", "--to-destination", joinHostPort(address.ip, mapping.containerPort)]];
  });

  const comment = dnatComment(request);
  const conditions = conditionsOf(settings, address.family);
  const entries: ChainEntry[] = portsByProtocol(request).flatMap(([protocol, ports]) =>
    chunks(ports, MULTIPORT_MAX_PORTS).map((chunk) => ({
      chain: HOSTPORT_DNAT_CHAIN,
      args: ["-p", protocol, "-m", "comment", "--comment", comment, "-m", "multiport", "--dports", chunk.join(","), ...conditions, "-j", name],
    })),
  );
  return { name, rules: unique(rules, (rule) => rule), entries: unique(entries, (entry) => entry.args) };
}

/** Host ports per protocol, protocols in alphabetical order, ports in mapping order. */
function portsByProtocol(request: PortMapRequest): [string, number[]][] {
  const byProtocol = new Map<string, number[]>();
  for (const mapping of request.mappings) {
    byProtocol.set(mapping.protocol, [...(byProtocol.get(mapping.protocol) ?? []), mapping.hostPort]);
  }
  return [...byProtocol].sort(([a], [b]) => a.localeCompare(b));
}

/**
 * One commit for one family: the shared chains and rules that are missing, the container's
 * chain rewritten unless it holds exactly its rules, and its entry rules made exact (entry
 * rules of an earlier setup with other ports or conditions are replaced).
 */
export function portmapSetupScript(current: IptablesTable, shared: SharedChains, chain: ContainerChain): RestoreScript {
  const script = new RestoreScript(PORTMAP_TABLE);
  // "-N", never ":": when a concurrent ADD made a shared chain since the reading, the commit
  // fails and is planned again, where ":" would have emptied the chain of that ADD's rules.
  for (const name of shared.chains) if (!current.hasChain(name)) script.createChain(name);
  writeChainSetup(script, current, { ...chain, entries: [] });
  for (const rule of shared.rules) {
    if (current.hasRule(rule.chain, rule.args)) continue;
    if (rule.first) script.insertFirst(rule.chain, rule.args);
    else script.append(rule.chain, rule.args);
  }
  for (const stale of current.referencesTo(chain.name)) {
    if (!chain.entries.some((entry) => entry.chain === stale.chain && sameArgs(entry.args, stale.args))) script.delete(stale.chain, stale.args);
  }
  for (const entry of chain.entries) if (!current.hasRule(entry.chain, entry.args)) script.append(entry.chain, entry.args);
  return script;
}

/** One commit removing the attachment's chains and every rule leading into them. */
export function portmapTeardownScript(current: IptablesTable, attachment: PortMapAttachment): RestoreScript {
  const script = new RestoreScript(PORTMAP_TABLE);
  writeChainTeardown(script, current, dnatChainName(attachment));
  writeChainTeardown(script, current, oldSnatChainName(attachment));
  return script;
}

/**
 * The containers of `network` whose chains the table holds: found by the comment of the entry
 * rules in CNI-HOSTPORT-DNAT, when the rule leads to the chain named after that network and
 * container (so a comment cut short or a chain of another plugin is never taken for one).
 */
export function portmapOwners(current: IptablesTable, network: string): Map<string, string> {
  const owners = new Map<string, string>();
  for (const rule of current.rules(HOSTPORT_DNAT_CHAIN)) {
    const comment = optionValue(rule.args, "--comment");
    const owner = comment === undefined ? undefined : parseDnatComment(comment);
    if (owner?.network === network && ruleTarget(rule.args) === dnatChainName(owner)) owners.set(dnatChainName(owner), owner.containerId);
  }
  return owners;
}

export function iptablesPortMap(executor: ToolExecutor): PortMapFeature {
  const readNat = (family: IPFamily) => readIptablesTable(executor, IPTABLES_TOOLS[family], PORTMAP_TABLE);
  const commit = (family: IPFamily, plan: () => RestoreScript) =>
    commitFromFreshState(plan, (script) => applyRestore(executor, IPTABLES_TOOLS[family], script));

  /** Entry rules with conditions are looked up with `iptables -C`: iptables-save reorders conditions in ways only it knows. */
  const presentByCheck = (family: IPFamily, entry: ChainEntry) =>
    executor.run(IPTABLES_TOOLS[family].name, ["-w", "-t", PORTMAP_TABLE, "-C", entry.chain, ...entry.args]).status === 0;

  return {
    setup(request) {
      const shared = sharedChains(request.settings);
      for (const [family, address] of addressesByFamily(request)) {
        const chain = portmapChain(request, address);
        commit(family, () => portmapSetupScript(readNat(family), shared, chain));
      }
    },

    check(request) {
      const shared = sharedChains(request.settings);
      const missing = [...addressesByFamily(request)].flatMap(([family, address]) => {
        const current = readNat(family);
        const chain = portmapChain(request, address);
        const conditions = conditionsOf(request.settings, family).length > 0;
        const entries = chain.entries.filter(
          (entry) => !current.hasRule(entry.chain, entry.args) && !(conditions && presentByCheck(family, entry)),
        );
        return [...missingShared(current, shared), ...missingFromTable(current, { ...chain, entries })].map(
          (what) => `${what} in ${IPTABLES_TOOLS[family].name} table ${PORTMAP_TABLE}`,
        );
      });
      if (missing.length > 0) throw checkFailed(missing);
    },

    teardown(attachment) {
      for (const family of IP_FAMILIES) {
        const chains = [dnatChainName(attachment), oldSnatChainName(attachment)];
        if (iptablesChainsState(executor, IPTABLES_TOOLS[family], PORTMAP_TABLE, chains) === "absent") continue;
        const read = readingsOf(() => readNat(family));
        if (read) commit(family, () => portmapTeardownScript(read(), attachment));
      }
    },

    // The reference has no GC. The entry rules' comments name network and container, so the
    // chains of containers that are no longer valid can be told apart from everyone else's.
    gc(network, validAttachments) {
      const valid = new Set(validAttachments.map((attachment) => attachment.containerID));
      for (const family of IP_FAMILIES) {
        const read = readingsOf(() => readNat(family));
        if (!read) continue;
        commit(family, () => {
          const current = read();
          const script = new RestoreScript(PORTMAP_TABLE);
          for (const [chain, containerId] of portmapOwners(current, network)) {
            if (!valid.has(containerId)) writeChainTeardown(script, current, chain);
          }
          return script;
        });
      }
    },
  };
}

function missingShared(current: IptablesTable, shared: SharedChains): string[] {
  return [
    ...shared.chains.filter((chain) => !current.hasChain(chain)).map((chain) => `chain ${chain}`),
    ...shared.rules.filter((rule) => !current.hasRule(rule.chain, rule.args)).map((rule) => `rule "-A ${rule.chain} ${formatArgs(rule.args)}"`),
  ];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size) result.push(items.slice(start, start + size));
  return result;
}

function unique<T>(items: readonly T[], key: (item: T) => RuleArgs): T[] {
  return items.filter((item, index) => items.findIndex((other) => sameArgs(key(other), key(item))) === index);
}
