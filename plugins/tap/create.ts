import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createTap, deleteLinkByName, type Attachment } from "../../lib/link/index.ts";
import type { Link } from "../../lib/netlink/index.ts";
import type { NewTap } from "../../lib/sys/index.ts";
import { CniError, ErrorCode, invalidConfig, invalidEnvironment, log, type Rollback } from "../../lib/skel/index.ts";
import type { TapConfig } from "./config.ts";

/**
 * The tap, made in the container's namespace. Without an SELinux context this is lib/link's
 * createTap (TUNSETIFF on /dev/net/tun). A device takes the SELinux label of the process that
 * creates it, and a process can only choose the label of a program it executes: so with
 * `selinuxContext`, as in the reference, `ip tuntap add` is executed under that label. Without
 * SELinux on the host there is no label to apply: the tap is made as usual and stderr says so.
 */
export function createContainerTap(attachment: Attachment, config: TapConfig, ifname: string, rollback: Rollback): Link {
  const tap: NewTap = { name: ifname, multiQueue: config.multiQueue, owner: config.owner, group: config.group };
  if (!config.selinuxContext) return createTap(attachment, tap, rollback);
  if (!selinuxEnabled()) {
    log(`tap: selinuxContext ${JSON.stringify(config.selinuxContext)} not applied: SELinux is not enabled on this host (no ${SELINUX_FS})`);
    return createTap(attachment, tap, rollback);
  }
  return createLabelledTap(attachment, tap, config.selinuxContext, rollback);
}

const SELINUX_FS = "/sys/fs/selinux/enforce";
/** The label the next program this thread executes runs under (setexeccon). */
const EXEC_LABEL = "/proc/thread-self/attr/exec";

function selinuxEnabled(): boolean {
  return existsSync(SELINUX_FS);
}

function createLabelledTap(attachment: Attachment, tap: NewTap, context: string, rollback: Rollback): Link {
  const { container, netns } = attachment;
  if (container.linkByName(tap.name)) throw invalidEnvironment("CNI_IFNAME", `an interface named ${tap.name} already exists in the container`);
  const args = ["tuntap", "add", "mode", "tap", "name", tap.name];
  if (tap.multiQueue) args.push("multi_queue");
  if (tap.owner !== undefined) args.push("user", `${tap.owner}`);
  if (tap.group !== undefined) args.push("group", `${tap.group}`);
  // The child is forked from this thread while it is in the container's namespace, so the tap is made there.
  const outcome = netns.run(() => {
    try {
      writeFileSync(EXEC_LABEL, context);
    } catch (error) {
      throw invalidConfig("selinuxContext", context, `cannot be applied: ${(error as Error).message}`);
    }
    try {
      return spawnSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
    } finally {
      writeFileSync(EXEC_LABEL, "");
    }
  });
  if (outcome.status !== 0) {
    throw new CniError(ErrorCode.KernelOperationFailed, `ip ${args.join(" ")} under ${context}: ${(outcome.stderr || outcome.error?.message || "failed").trim()}`);
  }
  rollback.add(`tap ${tap.name}`, () => deleteLinkByName(container, tap.name));
  const link = container.linkByName(tap.name);
  if (!link) throw new CniError(ErrorCode.KernelOperationFailed, `tap ${tap.name} was created but is not in the container`);
  return link;
}
