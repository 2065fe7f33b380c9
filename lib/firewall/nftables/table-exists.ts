import { attr, NetlinkError, NetlinkSocket, request, type Request } from "../../netlink/index.ts";
import { Errno } from "../../sys/index.ts";
import { NETLINK_NETFILTER, nfgenmsg, NFNETLINK_V0 } from "../nfnetlink.ts";

/**
 * Whether an nftables table exists, asked of the kernel directly (nf_tables over netlink,
 * NFT_MSG_GETTABLE) instead of with `nft list table`. Teardown lists its tables on every DEL,
 * and mostly finds none (the backend not in use here): that answer costs ~0.1 ms this way and
 * ~2-4 ms as an nft process. Numbers are from linux/netfilter/nf_tables.h.
 */
const NFNL_SUBSYS_NFTABLES = 10;
const NFT_MSG_GETTABLE = 1;
const NFTA_TABLE_NAME = 1;

/** nft's family names and their NFPROTO_* numbers. */
const NFT_FAMILIES: Readonly<Record<string, number>> = { inet: 1, ip: 2, arp: 3, netdev: 5, bridge: 7, ip6: 10 };

function getTableRequest(family: number, table: string): Request {
  return request((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE, 0, nfgenmsg.encode({ family, version: NFNETLINK_V0 }), [
    attr.string(NFTA_TABLE_NAME, table),
  ]);
}

/**
 * True or false when the kernel says so plainly in the calling thread's network namespace;
 * undefined when it does not (no nf_tables, no permission, a family name not listed above), and
 * the caller should ask nft as before.
 */
export function nftTableExists(family: string, table: string): boolean | undefined {
  const familyNumber = NFT_FAMILIES[family];
  if (familyNumber === undefined) return undefined;
  let socket: NetlinkSocket | undefined;
  try {
    socket = NetlinkSocket.open(NETLINK_NETFILTER, "NETLINK_NETFILTER");
    socket.command(getTableRequest(familyNumber, table), () => `look up nftables table ${family} ${table}`);
    return true;
  } catch (error) {
    if (error instanceof NetlinkError && error.errno === Errno.ENOENT) return false;
    return undefined;
  } finally {
    socket?.close();
  }
}
