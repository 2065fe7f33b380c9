import { type NetNS, readSysctl, writeSysctl } from "../../lib/netns/index.ts";
import { CniError, ErrorCode, type Rollback } from "../../lib/skel/index.ts";
import type { Sysctl } from "./config.ts";
import { invalidSysctlKey } from "./sysctl-key.ts";

/**
 * Writes the sysctls inside the container namespace, in order. Each write registers the old
 * value with the rollback, so a failed ADD leaves the namespace as it found it; DEL does not
 * restore them (see README: the namespace and the interface take them along when they go).
 */
export function applySysctls(netns: NetNS, sysctls: readonly Sysctl[], rollback: Rollback): void {
  if (sysctls.length === 0) return;
  netns.run(() => {
    for (const sysctl of sysctls) {
      const before = readIfReadable(sysctl.path);
      try {
        writeSysctl(sysctl.path, sysctl.value);
      } catch (error) {
        throw explainWriteFailure(sysctl, error as NodeJS.ErrnoException);
      }
      if (before !== undefined) {
        rollback.add(`sysctl ${sysctl.key}`, () => netns.run(() => writeSysctl(sysctl.path, before)));
      }
    }
  });
}

/** CHECK: each sysctl still has its configured value (code 104 naming key, expected and actual). */
export function checkSysctls(netns: NetNS, sysctls: readonly Sysctl[]): void {
  if (sysctls.length === 0) return;
  netns.run(() => {
    for (const sysctl of sysctls) {
      let actual: string;
      try {
        actual = readSysctl(sysctl.path);
      } catch (error) {
        throw new CniError(ErrorCode.CheckFailed, `sysctl ${sysctl.key}: cannot read /proc/sys/${sysctl.path}: ${(error as Error).message}`);
      }
      // The kernel prints multi-value sysctls with tabs ("32768\t60999") however they were written.
      if (collapseSpace(actual) !== collapseSpace(sysctl.value)) {
        throw new CniError(
          ErrorCode.CheckFailed,
          `sysctl ${sysctl.key} (/proc/sys/${sysctl.path}) is ${JSON.stringify(actual)}, configured ${JSON.stringify(sysctl.value)}`,
        );
      }
    }
  });
}

/** Some sysctls are write-only (net.ipv4.route.flush): they have no old value to put back. */
function readIfReadable(path: string): string | undefined {
  try {
    return readSysctl(path);
  } catch {
    return undefined;
  }
}

function explainWriteFailure(sysctl: Sysctl, error: NodeJS.ErrnoException): CniError {
  const file = `/proc/sys/${sysctl.path}`;
  switch (error.code) {
    case "ENOENT":
      return invalidSysctlKey(sysctl.key, `${file} does not exist in the container's network namespace`);
    case "EINVAL":
    case "ERANGE":
      return invalidSysctlKey(sysctl.key, `the kernel refused the value ${JSON.stringify(sysctl.value)} for ${file} (${error.code})`);
    case "EACCES":
    case "EPERM":
      return invalidSysctlKey(sysctl.key, `${file} cannot be written in a container's network namespace (${error.code})`);
    default:
      return new CniError(ErrorCode.IoFailure, `sysctl ${sysctl.key}: writing ${file}: ${error.message}`);
  }
}

function collapseSpace(text: string): string {
  return text.trim().replace(/\s+/g, " ");
}
