/**
 * Host state the plugins keep on purpose, for every attachment of a network or of the host, and
 * which therefore stays after the last DEL (as with the reference plugins): bridges with their
 * gateway addresses and routes, IP forwarding, and the firewall's shared tables, chains and
 * jump rules. Everything else a case adds or changes is residue: a veth or ifb, a qdisc, an
 * address or route elsewhere, a policy rule, a lease or saved-settings file, any iptables or
 * nftables item naming a container (its address, its ID, its hashed chain), any other sysctl.
 */
import type { Difference, Snapshot } from "./snapshot.ts";

/** Items of a case's difference that are residue (added or changed, and not shared by design). */
export function residueOf(difference: Difference, after: Snapshot, tag: string): string[] {
  const bridges = new Set([...after].filter(([key, value]) => key.startsWith("link ") && value.startsWith("bridge")).map(([key]) => key.slice(5)));
  const isShared = sharedBy(bridges, tag);
  return [...difference.added.filter((item) => !isShared(item)), ...difference.changed.filter((item) => !isShared(item.split(": ")[0]!))];
}

/** IP forwarding, which bridge turns on for its gateway and nobody turns off. */
const FORWARDING = /^sysctl net\/(ipv4\/ip_forward|ipv4\/conf\/(all|default)\/forwarding|ipv6\/conf\/(all|default)\/forwarding)$/;

/** The host-local store's own files: the lock, the last reserved address per range, the owner index's fence. */
const STORE_FILES = /\/(lock|last_reserved_ip\.\d+|\.cni-ts-index\/fence)$/;

/** Chains made for one container: masquerading (CNI-<24 hex>), portmap (CNI-DN-, older CNI-SN-), the MAC spoof check. */
const CONTAINER_CHAIN = /\bCNI-[0-9a-f]{24}\b|\bCNI-(DN|SN)-[0-9a-f]{21}\b|cni-br-iface-/;

/** An address of one host: a.b.c.d or an IPv6 address, alone or as /32, /128. */
const HOST_ADDRESS = /(^|[\s"=,])(\d{1,3}(\.\d{1,3}){3}|[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7})(\/(32|128))?(?![\d/.:])/i;

function sharedBy(bridges: ReadonlySet<string>, tag: string): (item: string) => boolean {
  /**
   * A container ID of the run (fuzz cases tt<tag>o12 and r12, kill k, soak s, parallel q,
   * priming p), as comments and nftables chain names carry them.
   */
  const caseContainer = new RegExp(`tt${tag}[orkspq][0-9a-z]+`);
  const namesContainer = (item: string) => caseContainer.test(item) || CONTAINER_CHAIN.test(item) || HOST_ADDRESS.test(item);
  return (item) => {
    const [kind, ...rest] = item.split(" ");
    switch (kind) {
      case "link":
        return bridges.has(rest[0]!);
      case "addr":
        return bridges.has(rest[0]!);
      case "route4":
      case "route6":
        return bridges.has(item.split(" dev ")[1]?.split(" ")[0] ?? "");
      case "sysctl":
        return FORWARDING.test(item);
      case "file":
        return STORE_FILES.test(item);
      case "ipt4":
      case "ipt6":
      case "nft":
        return !namesContainer(item);
      default:
        return false;
    }
  };
}
