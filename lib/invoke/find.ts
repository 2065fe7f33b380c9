import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { CniError, ErrorCode } from "../core/index.ts";

/**
 * Finds a plugin executable by type in the CNI_PATH directories, first match wins. A type that
 * is a path is refused: a configuration must never choose which file runs.
 */
export function findInPath(type: string, path: readonly string[]): string {
  if (type === "" || type.includes("/")) {
    throw new CniError(ErrorCode.InvalidConfig, `invalid config: type=${JSON.stringify(type)}: must be a plugin name, not a path`);
  }
  if (path.length === 0) {
    throw new CniError(ErrorCode.InvalidEnvironment, `CNI_PATH: is empty, so plugin "${type}" cannot be found`);
  }
  const found = firstExecutable(type, path);
  if (found) return found;
  throw new CniError(ErrorCode.DelegateFailed, `plugin "${type}" not found in CNI_PATH (${path.join(":")})`);
}

/** The first file named `name` in `dirs` that we may execute, as a shell's PATH search finds it. */
export function firstExecutable(name: string, dirs: readonly string[]): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}
