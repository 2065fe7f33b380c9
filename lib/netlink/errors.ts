import { Errno, errnoMessage, errnoName } from "../sys/index.ts";
/**
 * A failed rtnetlink request: what was attempted (in words), the kernel's errno and, when the
 * kernel explains itself (NETLINK_EXT_ACK), its message. For example:
 *   create link br0 (bridge): EOPNOTSUPP (Operation not supported): <extack>
 *   create link vl10 (vlan): kernel lacks vlan support (EOPNOTSUPP: Unknown device type)
 */
export class NetlinkError extends Error {
  override readonly name = "NetlinkError";
  readonly errnoName: string;
  /** CNI's code for a failed kernel operation (lib/core ErrorCode.KernelOperationFailed). */
  readonly cniCode = 100;

  constructor(
    /** What was attempted, e.g. "add address 10.1.0.5/24 to eth0". */
    readonly operation: string,
    /** A positive errno. */
    readonly errno: number,
    /** The kernel's extended-ack message, when it gave one. */
    readonly extack?: string,
    /** Set when the failure means this kernel lacks a feature, e.g. "vlan" or "bridge VLAN filtering". */
    readonly missingFeature?: string,
  ) {
    super(describe(operation, errno, extack, missingFeature));
    this.errnoName = errnoName(errno);
  }

  /** The same failure, reported as a feature this kernel lacks. */
  asMissingFeature(feature: string): NetlinkError {
    return new NetlinkError(this.operation, this.errno, this.extack, feature);
  }
}

function describe(operation: string, errno: number, extack: string | undefined, missingFeature: string | undefined) {
  if (missingFeature !== undefined) {
    return `${operation}: kernel lacks ${missingFeature} support (${errnoName(errno)}${extack ? `: ${extack}` : ""})`;
  }
  const cause = `${errnoName(errno)} (${errnoMessage(errno)})`;
  return `${operation}: ${cause}${extack ? `: ${extack}` : ""}`;
}

const { ENOENT, ESRCH, EEXIST, ENODEV, EOPNOTSUPP, EADDRNOTAVAIL } = Errno;

/**
 * The object does not exist: ENODEV for links, ESRCH for routes, ENOENT for neighbours and rules,
 * and EADDRNOTAVAIL, which is how the kernel says an address to delete is not there.
 */
export function isNotFound(error: unknown): error is NetlinkError {
  return (
    error instanceof NetlinkError &&
    (error.errno === ENODEV || error.errno === ENOENT || error.errno === ESRCH || error.errno === EADDRNOTAVAIL)
  );
}

/** The object exists already. */
export function isExists(error: unknown): error is NetlinkError {
  return error instanceof NetlinkError && error.errno === EEXIST;
}

/** This kernel cannot do it (a missing link kind or feature). */
export function isNotSupported(error: unknown): error is NetlinkError {
  return error instanceof NetlinkError && error.errno === EOPNOTSUPP;
}

/** The kernel's extack when rtnl_newlink finds no driver for IFLA_INFO_KIND (module missing). */
export const UNKNOWN_DEVICE_TYPE = "Unknown device type";


/** The errnos rtnetlink answers with, and glibc's text for them. */

