import { CniError, ErrorCode } from "../../lib/skel/index.ts";
import { readSmallFile } from "../../lib/sys/index.ts";
import { invalidSysctlKey } from "./sysctl-key.ts";

/**
 * The host administrator's sysctl allowlist, where the reference keeps it. It is not a
 * configuration key on purpose: the network configuration is what it restricts.
 */
export const ALLOWLIST_PATH = "/etc/cni/tuning/allowlist.conf";

/** One regular expression per non-blank line; a key is allowed when any of them matches part of it. */
export interface Allowlist {
  path: string;
  patterns: { line: number; source: string; regex: RegExp }[];
}

/** The allowlist, or undefined when the file does not exist (then every net.* key is allowed). */
export function readAllowlist(path = ALLOWLIST_PATH): Allowlist | undefined {
  let text: string;
  try {
    text = readSmallFile(path).toString("utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CniError(ErrorCode.IoFailure, `reading the sysctl allowlist ${path}: ${(error as Error).message}`);
  }
  const patterns = text.split("\n").flatMap((raw, index) => {
    const source = raw.trim();
    return source === "" ? [] : [{ line: index + 1, source, regex: compile(source, path, index + 1) }];
  });
  return { path, patterns };
}

/** Refuses (code 7) the first key that no pattern matches, as the reference checks them: unanchored, on the key as written. */
export function requireAllowed(keys: readonly string[], allowlist: Allowlist): void {
  for (const key of keys) {
    if (allowlist.patterns.some((pattern) => pattern.regex.test(key))) continue;
    const allowed = allowlist.patterns.map((pattern) => pattern.source).join(", ") || "none";
    throw invalidSysctlKey(key, `not allowed by ${allowlist.path} (allowed patterns: ${allowed})`);
  }
}

/**
 * The file holds Go (RE2) expressions. Their common syntax means the same in JavaScript; RE2's
 * leading flag group ("(?i)") has no JavaScript spelling inside a pattern, so it becomes flags.
 */
function compile(source: string, path: string, line: number): RegExp {
  const flagGroup = /^\(\?([ims]+)\)/.exec(source);
  try {
    return flagGroup ? new RegExp(source.slice(flagGroup[0].length), flagGroup[1]) : new RegExp(source);
  } catch (error) {
    throw new CniError(ErrorCode.InvalidConfig, `sysctl allowlist ${path} line ${line}: ${(error as Error).message}`);
  }
}
