import type { IPFamily } from "../../ip/index.ts";
import { groupByFamily, MULTICAST, type InterfaceAddress } from "../address.ts";
import type { ToolExecutor } from "../exec.ts";
import { missingFromTable, writeChainSetup, writeChainTeardown, type ContainerChain } from "../iptables/chain.ts";
import { IP_FAMILIES, IPTABLES_TOOLS } from "../iptables/family.ts";
import { applyRestore, RestoreScript } from "../iptables/restore.ts";
import { optionValue, sameArgs, type RuleArgs } from "../iptables/rule.ts";
import { iptablesChainsState, IptablesTable, readIptablesTable } from "../iptables/save.ts";
import { checkFailed } from "../check.ts";
import { formatChainName, formatComment, parseComment, UNPREFIXED_CHAIN_NAME } from "../names.ts";
import type { MasqueradeAttachment, MasqueradeFeature } from "./types.ts";

export const MASQUERADE_TABLE = "nat";

/**
 * The reference's iptables layout, per IP family, in table nat:
 *
 *   :CNI-<hash>                                   one chain per network + container ID
 *   -A CNI-<hash> -d <subnet> -m comment --comment <c> -j ACCEPT
 *   -A CNI-<hash> ! -d <multicast> -m comment --comment <c> -j MASQUERADE
 *   -A POSTROUTING -s <ip>/<32|128> -m comment --comment <c> -j CNI-<hash>
 *
 * with <c> = `name: "<network>" id: "<containerId>"`. Like the reference it ignores ifname, so
 * two attachments of one container to one network share the chain. For several addresses of
 * one family the reference appends each address's pair of rules unless an identical rule is
 * there already, so the one MASQUERADE rule comes right after the first subnet's ACCEPT and
 * the later subnets' ACCEPT rules are never reached. That order is kept on purpose: the rules
 * stay byte for byte the reference's, so either implementation can check and delete them.
 */
export function masqueradeChain(attachment: MasqueradeAttachment, addresses: readonly InterfaceAddress[]): ContainerChain {
  const name = formatChainName(attachment.network, attachment.containerId);
  const comment = ["-m", "comment", "--comment", formatComment(attachment.network, attachment.containerId)];
  const rules = addresses.flatMap((address) => [
    ["-d", address.subnet, ...comment, "-j", "ACCEPT"],
    ["!", "-d", MULTICAST[address.family], ...comment, "-j", "MASQUERADE"],
  ]);
  const entries = addresses.map((address) => ({ chain: "POSTROUTING", args: ["-s", address.host, ...comment, "-j", name] }));
  return { name, rules: uniqueBy(rules, (rule) => rule), entries: uniqueBy(entries, (entry) => entry.args) };
}

/** The restore script that sets up one family, given that family's nat table as it is now. */
export function masqueradeSetupScript(current: IptablesTable, chain: ContainerChain): RestoreScript {
  const script = new RestoreScript(MASQUERADE_TABLE);
  writeChainSetup(script, current, chain);
  return script;
}

/** The restore script that removes a container's chain and everything leading into it. */
export function masqueradeTeardownScript(current: IptablesTable, chainName: string): RestoreScript {
  const script = new RestoreScript(MASQUERADE_TABLE);
  writeChainTeardown(script, current, chainName);
  return script;
}

export function iptablesMasquerade(executor: ToolExecutor): MasqueradeFeature {
  const readNat = (family: IPFamily) => readIptablesTable(executor, IPTABLES_TOOLS[family], MASQUERADE_TABLE);
  const chainState = (family: IPFamily, chainName: string) =>
    iptablesChainsState(executor, IPTABLES_TOOLS[family], MASQUERADE_TABLE, [chainName]);

  return {
    setup(request) {
      for (const [family, addresses] of groupByFamily(request.addresses)) {
        const chain = masqueradeChain(request, addresses);
        // Without the container's chain there is no jump to it either: nothing to read.
        const current = chainState(family, chain.name) === "absent" ? IptablesTable.withoutChains(MASQUERADE_TABLE) : readNat(family);
        applyRestore(executor, IPTABLES_TOOLS[family], masqueradeSetupScript(current, chain));
      }
    },

    teardown(attachment) {
      const known = groupByFamily(attachment.addresses ?? []);
      const chainName = formatChainName(attachment.network, attachment.containerId);
      for (const family of IP_FAMILIES) {
        const state = chainState(family, chainName);
        if (state === "absent") continue;
        // The chain is there and the addresses are known: the jumps to delete are the ones
        // setup wrote. Should the table hold anything else (another address, an older form of
        // a jump), the transaction fails as a whole and the table is read instead.
        const addresses = known.get(family);
        if (state === "present" && addresses && teardownAsSetUp(executor, family, masqueradeChain(attachment, addresses))) continue;
        const current = readFamily(() => readNat(family), known.has(family));
        if (current) applyRestore(executor, IPTABLES_TOOLS[family], masqueradeTeardownScript(current, chainName));
      }
    },

    check(request) {
      const missing = [...groupByFamily(request.addresses)].flatMap(([family, addresses]) =>
        missingFromTable(readNat(family), masqueradeChain(request, addresses)).map(
          (what) => `${what} in ${IPTABLES_TOOLS[family].name} table ${MASQUERADE_TABLE}`,
        ),
      );
      if (missing.length > 0) throw checkFailed(missing);
    },

    // The reference has no GC for iptables. Ours finds the network's chains by their rules'
    // comments: a chain is a masquerade chain of container X on this network when a rule in it
    // carries X's comment and the chain's name is the hash of network + X. Chains someone
    // emptied carry no comment and are left alone.
    gc(network, validAttachments) {
      const valid = new Set(validAttachments.map((attachment) => attachment.containerID));
      for (const family of IP_FAMILIES) {
        const current = readFamily(() => readNat(family), false);
        if (!current) continue;
        const script = new RestoreScript(MASQUERADE_TABLE);
        for (const chainName of current.chainNames()) {
          const owner = masqueradeChainOwner(current, chainName, network);
          if (owner !== undefined && !valid.has(owner)) writeChainTeardown(script, current, chainName);
        }
        applyRestore(executor, IPTABLES_TOOLS[family], script);
      }
    },
  };
}

/** The container whose masquerade chain on `network` this is, if it is one. */
export function masqueradeChainOwner(current: IptablesTable, chainName: string, network: string): string | undefined {
  if (!UNPREFIXED_CHAIN_NAME.test(chainName)) return undefined;
  for (const rule of current.rules(chainName)) {
    const comment = optionValue(rule.args, "--comment");
    const owner = comment === undefined ? undefined : parseComment(comment);
    if (owner?.network === network && formatChainName(network, owner.containerId) === chainName) return owner.containerId;
  }
  return undefined;
}

/** Removes the chain and exactly the jumps setup made to it, in one transaction; false when that failed. */
function teardownAsSetUp(executor: ToolExecutor, family: IPFamily, chain: ContainerChain): boolean {
  const script = new RestoreScript(MASQUERADE_TABLE);
  for (const entry of chain.entries) script.delete(entry.chain, entry.args);
  script.flushChain(chain.name).deleteChain(chain.name);
  try {
    applyRestore(executor, IPTABLES_TOOLS[family], script);
    return true;
  } catch {
    return false;
  }
}

/**
 * A family whose nat table cannot even be listed (IPv6 disabled, no ip6tables) holds no rules
 * of ours; that is an error only when the caller has addresses of that family.
 */
function readFamily(read: () => IptablesTable, required: boolean): IptablesTable | undefined {
  try {
    return read();
  } catch (error) {
    if (required) throw error;
    return undefined;
  }
}

function uniqueBy<T>(items: readonly T[], key: (item: T) => RuleArgs): T[] {
  return items.filter((item, index) => items.findIndex((other) => sameArgs(key(other), key(item))) === index);
}
