import { attr, NetlinkError, NetlinkSocket, request, type Request } from "../../netlink/index.ts";
import { Errno } from "../../sys/index.ts";
import { NETLINK_NETFILTER, nfgenmsg, NFNETLINK_V0 } from "../nfnetlink.ts";

/**
 * Whether an nftables table or chain exists, asked of the kernel directly (nf_tables over
 * netlink, NFT_MSG_GETTABLE / NFT_MSG_GETCHAIN) instead of with `nft list` or `iptables-save`.
 * Teardown looks for its tables and chains on every DEL and mostly finds none (the backend or
 * the IP family not in use here): that answer costs ~0.1 ms this way and one process (~3 ms on
 * an idle machine, 10 ms and more on a busy one) otherwise. iptables-nft keeps each iptables
 * table and chain as an nftables table and chain of the same name in family ip or ip6.
 * Numbers are from linux/netfilter/nf_tables.h.
 */
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_GETTABLE = 1;
const NFT_MSG_GETCHAIN = 4;
const NFTA_TABLE_NAME = 1;
const NFTA_CHAIN_TABLE = 1;
const NFTA_CHAIN_NAME = 3;

/** nft's family names and their NFPROTO_* numbers. */
const NFT_FAMILIES: Readonly<Record<string, number>> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 };

function getTableRequest(family: number, table: string): Request {
  return request((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, 0, nfgenmsg.encode({ family, version: NFNETLINK_V0 }), [
    attr.string(NFTA_TABLE_NAME, table),
  ]);
}

function getChainRequest(family: number, table: string, chain: string): Request {
  return request((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN, 0, nfgenmsg.encode({ family, version: NFNETLINK_V0 }), [
    attr.string(NFTA_CHAIN_TABLE, table),
    attr.string(NFTA_CHAIN_NAME, chain),
  ]);
}

/**
 * True or false when the kernel says so plainly in the calling thread's network namespace;
 * undefined when it does not (no nf_tables, no permission, a family name not listed above), and
 * the caller should ask nft as before.
 */
export function nftTableExists(family: string, table: string): boolean | undefined {
  return exists(family, (number) => getTableRequest(number, table), `table ${family} ${table}`);
}

/** As nftTableExists, for a chain of a table; false also when the table does not exist. */
export function nftChainExists(family: string, table: string, chain: string): boolean | undefined {
  return exists(family, (number) => getChainRequest(number, table, chain), `chain ${family} ${table} ${chain}`);
}

function exists(family: string, lookUp: (familyNumber: number) => Request, what: string): boolean | undefined {
  const familyNumber = NFT_FAMILIES[family];
  if (familyNumber === undefined) return undefined;
  let socket: NetlinkSocket | undefined;
  try {
    socket = NetlinkSocket.open(NETLINK_NETFILTER, "NETLINK_NETFILTER");
    socket.command(lookUp(familyNumber), () => `look up nftables ${what}`);
    return true;
  } catch (error) {
    if (error instanceof NetlinkError && error.errno === Errno.ENOENT) return false;
    return undefined;
  } finally {
    socket?.close();
  }
}
