import { invalidConfig } from "../core/index.ts";
import { NetlinkError, type Link, type Rtnetlink } from "../netlink/index.ts";
import { Errno } from "../sys/index.ts";

/**
 * How the kernel refuses a value it cannot take: EINVAL (an MTU outside the device's range, a
 * bad length), ERANGE, and EADDRNOTAVAIL (a MAC that is not a unicast address).
 */
const REFUSED_VALUE: readonly number[] = [Errno.EINVAL, Errno.ERANGE, Errno.EADDRNOTAVAIL];

/** Whether a failed link change means the kernel refused the value itself (a configuration error). */
export function isRefusedValue(error: unknown): error is NetlinkError {
  return error instanceof NetlinkError && REFUSED_VALUE.includes(error.errno);
}

/** Sets the MTU; a value the device refuses is code 7 naming `field`. */
export function setMtu(nl: Rtnetlink, link: Link, mtu: number, field = "mtu"): void {
  try {
    nl.setLink(link.index, { mtu });
  } catch (error) {
    if (isRefusedValue(error)) throw invalidConfig(field, mtu, `${link.name} does not accept this MTU: ${error.message}`);
    throw error;
  }
}

/** Sets the MAC address; a value the device refuses is code 7 naming `field`. */
export function setMac(nl: Rtnetlink, link: Link, mac: string, field = "mac"): void {
  try {
    nl.setLink(link.index, { mac });
  } catch (error) {
    if (isRefusedValue(error)) throw invalidConfig(field, mac, `${link.name} does not accept this MAC address: ${error.message}`);
    throw error;
  }
}
