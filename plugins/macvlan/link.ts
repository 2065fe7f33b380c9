import { createLinkOnMaster, isRefusedValue, type Attachment, type Master } from "../../lib/link/index.ts";
import type { Link } from "../../lib/netlink/index.ts";
import { invalidConfig, type Rollback } from "../../lib/skel/index.ts";
import type { MacvlanConfig } from "./config.ts";

/**
 * The macvlan on `master`, made inside the container as `ifname`. A value the kernel refuses
 * (a MAC that is not unicast, say) is code 7 naming it.
 */
export function createMacvlan(attachment: Attachment, master: Master, ifname: string, config: MacvlanConfig, rollback: Rollback): Link {
  const spec = { kind: "macvlan" as const, mode: config.mode, mtu: config.mtu || undefined, mac: config.mac, bcQueueLen: config.bcqueuelen || undefined };
  try {
    return createLinkOnMaster(attachment, master, ifname, spec, rollback);
  } catch (error) {
    if (!isRefusedValue(error)) throw error;
    const [field, value] = config.mac ? ["mac", config.mac] : ["mode", config.mode];
    throw invalidConfig(field, value, `the kernel refused a macvlan on ${master.link.name} with it: ${error.message}`);
  }
}
