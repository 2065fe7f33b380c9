import { CniError, ErrorCode, invalidEnvironment, unsupportedField } from "../core/index.ts";
import type { Link } from "../netlink/index.ts";
import { Errno, SysError, createPersistentTap, type NewTap } from "../sys/index.ts";
import type { Rollback } from "../skel/index.ts";
import type { Attachment } from "./attachment.ts";
import { deleteLinkByName } from "./delete.ts";

/**
 * Creates a persistent tap directly inside the container's namespace (/dev/net/tun opened
 * there, TUNSETIFF), down, and registers its deletion on `rollback`. A name the container
 * already has is code 4 (`CNI_IFNAME`), as for a veth pair; no /dev/net/tun is code 2.
 * `make` runs inside the container's namespace; another one (tap's SELinux path, which has a
 * labelled program make the device) gets the same checks, rollback and read-back.
 */
export function createTap(attachment: Attachment, tap: NewTap, rollback: Rollback, make: (tap: NewTap) => void = createPersistentTap): Link {
  const { container, netns } = attachment;
  if (container.linkByName(tap.name)) throw invalidEnvironment("CNI_IFNAME", `an interface named ${tap.name} already exists in the container`);
  try {
    netns.run(() => make(tap));
  } catch (error) {
    if (error instanceof SysError && error.call === "open /dev/net/tun" && (error.errno === Errno.ENOENT || error.errno === Errno.ENODEV)) {
      throw unsupportedField("type", "tap", `this kernel or container has no /dev/net/tun (load the tun module): ${error.message}`);
    }
    throw error;
  }
  rollback.add(`tap ${tap.name}`, () => deleteLinkByName(container, tap.name));
  const link = container.linkByName(tap.name);
  if (!link) throw new CniError(ErrorCode.KernelOperationFailed, `tap ${tap.name} was created but is not in the container`);
  return link;
}
