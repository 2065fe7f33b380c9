import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";

/**
 * The first `<dir>/<name>` of `dirs`, in order, that `accepts`: a PATH search. Tools are
 * looked for as a shell finds them (isExecutable); plugins as libcni's FindInPath finds them
 * (isRegularFile: a file that turns out not to be executable then fails to start, loudly,
 * instead of being skipped).
 */
export function searchPath(name: string, dirs: readonly string[], accepts: (file: string) => boolean): string | undefined {
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (accepts(candidate)) return candidate;
  }
  return undefined;
}

/** Whether we may execute `file`. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `file` is a regular file (after symbolic links). */
export function isRegularFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
