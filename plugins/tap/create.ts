import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createTap, type Attachment } from "../../lib/link/index.ts";
import type { Link } from "../../lib/netlink/index.ts";
import type { NewTap } from "../../lib/sys/index.ts";
import { CniError, ErrorCode, invalidConfig, log, type Rollback } from "../../lib/skel/index.ts";
import type { TapConfig } from "./config.ts";

/**
 * The tap, made in the container's namespace by lib/link's createTap: with TUNSETIFF on
 * /dev/net/tun, or, with an SELinux context, by a labelled program. A device takes the SELinux
 * label of the process that creates it, and a process can only choose the label of a program it
 * executes: so with `selinuxContext`, as in the reference, `ip tuntap add` is executed under
 * that label. Without
 * SELinux on the host there is no label to apply: the tap is made as usual and stderr says so.
 */
export function createContainerTap(attachment: Attachment, config: TapConfig, ifname: string, rollback: Rollback): Link {
  const tap: NewTap = { name: ifname, multiQueue: config.multiQueue, owner: config.owner, group: config.group };
  if (!config.selinuxContext) return createTap(attachment, tap, rollback);
  if (!selinuxEnabled()) {
    log(`tap: selinuxContext ${JSON.stringify(config.selinuxContext)} not applied: SELinux is not enabled on this host (no ${SELINUX_FS})`);
    return createTap(attachment, tap, rollback);
  }
  const context = config.selinuxContext;
  return createTap(attachment, tap, rollback, () => runIpTuntapUnder(context, tap));
}

const SELINUX_FS = "/sys/fs/selinux/enforce";
/** The label the next program this thread executes runs under (setexeccon). */
const EXEC_LABEL = "/proc/thread-self/attr/exec";

function selinuxEnabled(): boolean {
  return existsSync(SELINUX_FS);
}

/** `ip tuntap add` executed under the SELinux label `context`, from inside the container's namespace. */
function runIpTuntapUnder(context: string, tap: NewTap): void {
  const args = ["tuntap", "add", "mode", "tap", "name", tap.name];
  if (tap.multiQueue) args.push("multi_queue");
  if (tap.owner !== undefined) args.push("user", `${tap.owner}`);
  if (tap.group !== undefined) args.push("group", `${tap.group}`);
  try {
    writeFileSync(EXEC_LABEL, context);
  } catch (error) {
    throw invalidConfig("selinuxContext", context, `cannot be applied: ${(error as Error).message}`);
  }
  // Forked from this thread while it is in the container's namespace, the child makes the tap there.
  let outcome;
  try {
    outcome = spawnSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 30_000 });
  } finally {
    writeFileSync(EXEC_LABEL, "");
  }
  if (outcome.status !== 0) {
    throw new CniError(ErrorCode.KernelOperationFailed, `ip ${args.join(" ")} under ${context}: ${(outcome.stderr || outcome.error?.message || "failed").trim()}`);
  }
}
