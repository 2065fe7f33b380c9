import { struct } from "../netlink/index.ts";

/**
 * nfnetlink, netfilter's netlink protocol, as conntrack (ctnetlink) and nf_tables speak it.
 * Numbers are from linux/netfilter/nfnetlink.h.
 */
export const NETLINK_NETFILTER = 12;
export const NFNETLINK_V0 = 0;

/** struct nfgenmsg, the family header of every nfnetlink message. */
export const nfgenmsg = struct("nfgenmsg", { family: "u8", version: "u8", resId: "u16be" });
