import type { IPFamily } from "../../ip/index.ts";

/** The tools for one address family: iptables-* for IPv4, ip6tables-* for IPv6. */
export interface IptablesTools {
  family: IPFamily;
  /** "iptables" or "ip6tables", as operators know the family. */
  name: string;
  save: string;
  restore: string;
}

export const IPTABLES_TOOLS: Record<IPFamily, IptablesTools> = {
  4: { family: 4, name: "iptables", save: "iptables-save", restore: "iptables-restore" },
  6: { family: 6, name: "ip6tables", save: "ip6tables-save", restore: "ip6tables-restore" },
};

export const IP_FAMILIES: readonly IPFamily[] = [4, 6];
