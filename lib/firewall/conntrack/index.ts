import type { IPFamily } from "../../ip/index.ts";
import { NetlinkError, NetlinkSocket } from "../../netlink/index.ts";
import { log } from "../../core/index.ts";
import { Errno } from "../../sys/index.ts";
import { NETLINK_NETFILTER } from "../nfnetlink.ts";
import { dumpEntriesRequest, IPPROTO_UDP, parseEntry } from "./messages.ts";

const { ENOENT, EINVAL, EPROTONOSUPPORT, EOPNOTSUPP } = Errno;

/** What a kernel without conntrack over netlink lacks, as the errors and the log name it. */
export const CTNETLINK = "ctnetlink (nf_conntrack_netlink)";

/**
 * Deletes the conntrack entries of one family for UDP traffic sent to one of `ports`, in the
 * calling thread's network namespace, and returns how many went. This is the reference's
 * DeleteConntrackEntriesForDstPort: dump the family's table, delete each match by its tuple.
 * Throws NetlinkError; one whose missingFeature is CTNETLINK when the kernel lacks it.
 */
export function deleteUdpEntries(family: IPFamily, ports: readonly number[]): number {
  const socket = openSocket();
  try {
    const entries = listEntries(socket, family);
    let deleted = 0;
    for (const entry of entries) {
      if (entry.protocol !== IPPROTO_UDP || entry.destinationPort === undefined || !ports.includes(entry.destinationPort)) continue;
      try {
        socket.command(entry.deleteRequest, () => `delete the conntrack entry for UDP port ${entry.destinationPort}`);
        deleted++;
      } catch (error) {
        // Gone already: it expired, or another run deleted it.
        if (!(error instanceof NetlinkError && error.errno === ENOENT)) throw error;
      }
    }
    return deleted;
  } finally {
    socket.close();
  }
}

/**
 * After mapping host ports (or removing the mappings), forgets the UDP flows to those ports so
 * their next datagrams are NATed afresh: a flow conntrack saw before the mapping would keep
 * bypassing it until it times out. As in the reference this is informative only: a failure is
 * reported through `warn` (stderr) and never fails the operation.
 */
export function clearStaleUdpEntries(
  ports: readonly number[],
  families: readonly IPFamily[],
  warn: (message: string) => void = log,
  remove: (family: IPFamily, ports: readonly number[]) => number = deleteUdpEntries,
): void {
  if (ports.length === 0) return;
  for (const family of families) {
    try {
      remove(family, ports);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const consequence =
        error instanceof NetlinkError && error.missingFeature === CTNETLINK
          ? "; UDP flows that reached these ports before keep their old destination until conntrack expires them"
          : "";
      warn(`could not clear stale conntrack entries for UDP ports ${ports.join(",")} (IPv${family}): ${reason}${consequence}`);
    }
  }
}

/**
 * How a kernel without conntrack over netlink answers: no NETLINK_NETFILTER socket at all
 * (EPROTONOSUPPORT: no nfnetlink), or EINVAL from nfnetlink for the conntrack subsystem it does
 * not have (EOPNOTSUPP from some kernels). Such errors become NetlinkErrors naming CTNETLINK as
 * the missing feature; anything else is returned as it is.
 */
export function explainMissingCtnetlink(error: unknown, step: "open" | "dump"): unknown {
  if (!(error instanceof NetlinkError)) return error;
  const missing = step === "open" ? error.errno === EPROTONOSUPPORT : error.errno === EINVAL || error.errno === EOPNOTSUPP;
  return missing ? error.asMissingFeature(CTNETLINK) : error;
}

function openSocket(): NetlinkSocket {
  try {
    return NetlinkSocket.open(NETLINK_NETFILTER, "NETLINK_NETFILTER");
  } catch (error) {
    throw explainMissingCtnetlink(error, "open");
  }
}

function listEntries(socket: NetlinkSocket, family: IPFamily) {
  try {
    return socket.dump(dumpEntriesRequest(family), () => `dump the IPv${family} conntrack table`).map(parseEntry);
  } catch (error) {
    throw explainMissingCtnetlink(error, "dump");
  }
}
