import { createLinkOnMaster, type Attachment, type Master } from "../../lib/link/index.ts";
import { isExists, type Link } from "../../lib/netlink/index.ts";
import { invalidConfig, type Rollback } from "../../lib/skel/index.ts";
import type { VlanConfig } from "./config.ts";

/**
 * The VLAN link on `master`, made inside the container as `ifname`. A VLAN ID can be used once
 * per master, in whichever namespace its link is: a second one is code 7 naming vlanId.
 */
export function createVlanLink(attachment: Attachment, master: Master, ifname: string, config: VlanConfig, rollback: Rollback): Link {
  try {
    return createLinkOnMaster(attachment, master, ifname, { kind: "vlan", vlanId: config.vlanId, mtu: config.mtu || undefined }, rollback);
  } catch (error) {
    if (isExists(error)) {
      throw invalidConfig("vlanId", config.vlanId, `master ${master.link.name} already has a VLAN link with this ID (an ID can be used once per master)`);
    }
    throw error;
  }
}
